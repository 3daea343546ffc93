"""Property-based tests generated from /openapi.json (schemathesis): for every operation, a bounded number of
generated requests — valid and invalid — must answer no 5xx, only status codes the operation documents, and
bodies that match their documented schema. Together these keep the spec true to the server."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from app.main import create_app
from app.settings import Settings

# Small limits keep every generated request cheap (the whole test stays near a minute on two cores) without
# changing which status codes the operations answer.
app = create_app(Settings(max_steps_per_request=50, max_data_points=400, max_batch_size=64, max_parameters=20_000,
                          train_deadline_seconds=0.5, max_function_points=500, max_plane_resolution=32,
                          max_conv_image_size=32, max_conv_window_numbers=4096, max_predict_image_size=64))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)

EXAMPLES = 8


@pytest.mark.filterwarnings("ignore")
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_its_documented_contract(case):
    case.call_and_validate(checks=[not_a_server_error, status_code_conformance, response_schema_conformance])
