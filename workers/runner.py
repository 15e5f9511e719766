"""The workflow runner the project's workers use: the SDK's sandbox, minus a lookup our data converter never needs.

For every payload of every activation and completion, temporalio 1.35 asks the workflow instance for the
payload's serialization context (and its external-storage context), so that a payload codec or an external
store can work per workflow and per activity. Asked of a sandboxed instance, each question is a round trip into
the sandbox (compiled and run as code under the sandbox's import and builtins overrides): about 7 per activity,
roughly a tenth of the worker's CPU in the default ads study. Those contexts are handed only to the codec and the
external store (``DataConverter._encode_payload_sequence`` and its siblings); with neither configured the passes
return the payloads unchanged whatever the context, as the SDK's older versions knew when they skipped the passes
without a codec. Payload conversion itself (pydantic, inside the sandbox) does not go through this lookup.

So for a data converter with no payload codec and no external storage, ``project_runner`` wraps the sandboxed
runner so that those two questions are answered outside the sandbox with "no context". Everything else, every
activation above all, still runs in the sandbox exactly as before. A converter with a codec or an external store
gets the SDK's runner unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import temporalio.workflow
from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.converter import DataConverter, SerializationContext, StorageDriverStoreContext
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner


def project_runner(data_converter: DataConverter) -> WorkflowRunner:
    """The runner for workers whose client converts payloads with ``data_converter``."""
    if needs_contexts(data_converter):
        return SandboxedWorkflowRunner()
    return ContextFreeSandboxedRunner(SandboxedWorkflowRunner())


def needs_contexts(data_converter: DataConverter) -> bool:
    """Whether anything the worker applies to payloads outside the sandbox uses their contexts."""
    return data_converter.payload_codec is not None or data_converter.external_storage is not None


class ContextFreeSandboxedRunner(WorkflowRunner):
    """``inner``'s instances, answering the serialization and store context questions without entering them.

    Only for a worker whose data converter has no payload codec and no external storage (``project_runner``).
    """

    def __init__(self, inner: SandboxedWorkflowRunner) -> None:
        self._inner = inner

    def prepare_workflow(self, defn: temporalio.workflow._Definition) -> None:
        self._inner.prepare_workflow(defn)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _ContextFreeInstance(self._inner.create_instance(det))

    def set_worker_level_failure_exception_types(self, types: Sequence[type[BaseException]]) -> None:
        self._inner.set_worker_level_failure_exception_types(types)


class _ContextFreeInstance(WorkflowInstance):
    _NO_STORE = StorageDriverStoreContext(target=None)

    def __init__(self, sandboxed: WorkflowInstance) -> None:
        self._sandboxed = sandboxed

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        return self._sandboxed.activate(act)

    def get_serialization_context(self, command_info: object) -> SerializationContext | None:
        return None

    def get_external_store_context(self, command_info: object) -> StorageDriverStoreContext:
        return self._NO_STORE

    def get_info(self) -> temporalio.workflow.Info:
        return self._sandboxed.get_info()

    def get_thread_id(self) -> int | None:
        return self._sandboxed.get_thread_id()
