"""Cost of one stored step of email_account: our spec-less state vs SpiffWorkflow's full serialization.

Run with `make bench`. Prints absolute times and the ratio against the baseline measured in the
same run (the library's own `serialize_json`/`deserialize_json`, which embed the spec in every
instance). The figure that matters is the ratio: it says what storing the spec once per version
saves on every request that loads and saves an instance.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from engine.bpmn.functions import platform_functions
from engine.bpmn.parser import build_specs, parse_xml
from engine.bpmn.runtime import SERIALIZER, Runtime, spec_bundle

ROOT = Path(__file__).resolve().parent.parent
ROWS = 50  # a large request: fifty accounts in one Phụ lục I


def _timed(fn: Callable[[], object], repeat: int = 30) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    tree = parse_xml((ROOT / "processes" / "email_account.bpmn").read_bytes())
    model = build_specs({"email_account.bpmn": tree})[0]
    bundle = spec_bundle(model)
    runtime = Runtime(platform_functions(lambda: datetime.now(UTC)))
    workflow = runtime.start(bundle)
    request = runtime.ready_human_tasks(workflow)[0]
    rows = [{"ho_ten": f"Nguyễn Văn {i}", "don_vi": "Phòng", "chuc_vu": "", "thao_tac": "cap_moi",
             "dia_chi_hien_tai": "", "ly_do": ""} for i in range(ROWS)]
    runtime.complete(workflow, request.task_id, {"kenh_gui": "idesk", "ca_nhan": rows, "tap_the": []})

    ours_state = runtime.dump(workflow)
    full = SERIALIZER.serialize_json(workflow)
    ours = _timed(lambda: runtime.dump(runtime.restore(bundle, ours_state)))
    baseline = _timed(lambda: SERIALIZER.serialize_json(SERIALIZER.deserialize_json(full)))
    print(f"email_account with {ROWS} rows, load + save of one instance (median of 30):")
    print(f"  baseline (spec embedded, library serializer): {baseline * 1000:8.2f} ms, {len(full):>8} bytes")
    print(f"  platform (spec stored once per version):      {ours * 1000:8.2f} ms, {len(ours_state):>8} bytes")
    print(f"  ratio platform/baseline: time {ours / baseline:.2f}, stored size {len(ours_state) / len(full):.2f}")


if __name__ == "__main__":
    main()
