"""Building blocks every domain's workflows share."""
