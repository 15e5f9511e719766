# The simctl image, for docker-compose.yml: a worker by default (`python -m workers.main`), and with another
# command the CLI (`simctl …`) or the OttoChain node (`simctl localnet ottochain --host 0.0.0.0`). The monero
# domain's binaries (monerod, monero-wallet-rpc) come from Debian's `monero` package.
FROM python:3.11.13-slim-bookworm

RUN apt-get update \
    && apt-get install --yes --no-install-recommends monero \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 simctl \
    && install --directory --owner simctl --group simctl /var/lib/simctl

WORKDIR /opt/simctl
COPY pyproject.toml README.md ./
COPY models ./models
COPY sim ./sim
COPY workflows ./workflows
COPY activities ./activities
COPY report ./report
COPY workers ./workers
COPY localnet ./localnet
COPY store ./store
COPY simctl ./simctl
RUN pip install --no-cache-dir . && rm -rf build

USER simctl
WORKDIR /var/lib/simctl
# State (the wallet pool, an embedded node's chain) in a volume; never an embedded Temporal server here.
ENV PYTHONUNBUFFERED=1 \
    SIMCTL_STATE_DIR=/var/lib/simctl \
    SIMCTL_EMBEDDED=false
EXPOSE 9464
CMD ["python", "-m", "workers.main"]
