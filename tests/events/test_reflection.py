"""gRPC server reflection: grpcurl (or any reflection client) lists the services and reads their
descriptors without the proto files."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf.descriptor_pb2 import FileDescriptorProto
from grpclib.client import Channel
from grpclib.reflection.v1 import reflection_grpc as v1_grpc
from grpclib.reflection.v1 import reflection_pb2 as v1_pb2
from grpclib.reflection.v1alpha import reflection_grpc as v1alpha_grpc
from grpclib.reflection.v1alpha import reflection_pb2 as v1alpha_pb2

from tests.helpers.service import RunningService

LOGIN = "accelbyte.iam.account.v1.UserAuthenticationUserLoggedInService"
STAT = "accelbyte.social.statistic.v1.StatisticStatItemUpdatedService"
HEALTH = "grpc.health.v1.Health"
VERSIONS = [
    pytest.param((v1alpha_grpc, v1alpha_pb2), id="v1alpha"),  # what grpcurl asks first
    pytest.param((v1_grpc, v1_pb2), id="v1"),
]


async def reflect(running: RunningService, version: tuple[Any, Any], request: Any) -> Any:
    grpc, pb2 = version
    channel = Channel("127.0.0.1", running.settings.grpc_port)
    try:
        async with grpc.ServerReflectionStub(channel).ServerReflectionInfo.open() as stream:
            await stream.send_message(pb2.ServerReflectionRequest(**request), end=True)
            return await stream.recv_message()
    finally:
        channel.close()


@pytest.mark.parametrize("version", VERSIONS)
async def test_reflection_lists_the_event_services_and_health(
    running: RunningService, version: tuple[Any, Any]
) -> None:
    response = await reflect(running, version, {"list_services": ""})

    names = {service.name for service in response.list_services_response.service}
    assert {LOGIN, STAT, HEALTH} <= names


@pytest.mark.parametrize("symbol", [LOGIN, STAT])
async def test_reflection_serves_the_descriptors_of_each_event_service(
    running: RunningService, symbol: str
) -> None:
    response = await reflect(running, (v1alpha_grpc, v1alpha_pb2), {"file_containing_symbol": symbol})

    files = [
        FileDescriptorProto.FromString(raw) for raw in response.file_descriptor_response.file_descriptor_proto
    ]
    package, service = symbol.rsplit(".", 1)
    described = {(f.package, s.name) for f in files for s in f.service}
    assert (package, service) in described
    assert any(m.name == "OnMessage" for f in files for s in f.service for m in s.method)
    # grpcurl then asks for each imported file (google/protobuf/empty.proto …) by name.
    for dependency in {d for f in files for d in f.dependency}:
        found = await reflect(running, (v1alpha_grpc, v1alpha_pb2), {"file_by_filename": dependency})
        [raw] = found.file_descriptor_response.file_descriptor_proto
        assert FileDescriptorProto.FromString(raw).name == dependency


async def test_reflection_answers_not_found_for_an_unknown_symbol(running: RunningService) -> None:
    response = await reflect(
        running, (v1alpha_grpc, v1alpha_pb2), {"file_containing_symbol": "no.such.Service"}
    )

    assert response.error_response.error_code == 5  # NOT_FOUND
