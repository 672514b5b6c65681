"""The study's devices: [runtime] device/precision/deterministic reach every run's RunConfig (ids
unchanged unless bf16/fp16), `xner study run --device/--precision` override them, each --jobs
worker gets its GPUs (a pure function), and the Ray executor asks for num_gpus (local Ray, CPU)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import _study_fake as fake
import pytest

from xner.errors import ConfigError, UserError
from xner.study.config import parse_config, with_runtime
from xner.study.executors import PoolExecutor, ray_gpus, visible_gpus, worker_gpus
from xner.study.grid import pretrain_specs, run_specs

STUDY = 'seeds = [1, 2]\nlabel_modes = ["raw"]\n[methods.random]\npercentages = [0, 30]\n'


def _specs(text: str) -> list:  # type: ignore[type-arg]
    cfg = parse_config(text, Path("study.toml"))
    return pretrain_specs(cfg, "ai") + run_specs(cfg, "ai", ["music", "science"], ["music", "science"])


def test_the_study_runtime_reaches_every_run_and_keeps_the_ids() -> None:
    default = _specs(STUDY)
    given = _specs(STUDY + '[runtime]\nthreads = 1\ndevice = "cpu"\nprecision = "fp32"\ndeterministic = true\n')
    assert [s.id for s in given] == [s.id for s in default] and len(given) > 4
    for spec in given:
        rt = spec.config.runtime
        assert (rt.device, rt.precision, rt.deterministic, rt.threads) == ("cpu", "fp32", True, 1)
    assert all(s.config.runtime.device == "auto" for s in default)
    # bf16 changes the numbers: new ids, for the pre-training as for the runs
    bf16 = _specs(STUDY + '[runtime]\nprecision = "bf16"\n')
    assert not {s.id for s in bf16} & {s.id for s in default}
    assert {s.pretrain_key for s in bf16}.isdisjoint({s.pretrain_key for s in default})


def test_command_line_overrides_and_bad_values() -> None:
    cfg = parse_config(STUDY + '[runtime]\ndevice = "cuda"\ngpus_per_worker = 0.5\n', Path("study.toml"))
    same = with_runtime(cfg, device=None, precision=None)
    assert same.runtime == cfg.runtime
    new = with_runtime(cfg, device="cpu", precision="bf16")
    assert (new.runtime.device, new.runtime.precision, new.runtime.gpus_per_worker) == ("cpu", "bf16", 0.5)
    with pytest.raises(ConfigError, match="--device: String should match pattern"):
        with_runtime(cfg, device="gpu")
    with pytest.raises(ConfigError, match="--precision: Input should be"):
        with_runtime(cfg, precision="fp8")
    with pytest.raises(ConfigError, match="runtime.device"):
        parse_config(STUDY + '[runtime]\ndevice = "tpu"\n', Path("study.toml"))


def test_worker_gpus_round_robin() -> None:
    two = ["0", "1"]
    assert [worker_gpus(i, two, 1) for i in range(4)] == ["0", "1", "0", "1"]  # worker i: GPU i % N
    assert [worker_gpus(i, ["0", "1", "2", "3"], 2) for i in range(3)] == ["0,1", "2,3", "0,1"]
    assert [worker_gpus(i, ["5", "7"], 0.5) for i in range(3)] == ["5", "7", "5"]  # a fraction: one each
    assert worker_gpus(0, two, 0) is None  # 0: the workers share what the driver sees
    assert worker_gpus(1, [], 1) is None  # no GPU: nothing to pin
    assert worker_gpus(0, two, 5) == "0,1"  # never more than there are


def test_visible_gpus_follow_cuda_visible_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2, 3")
    assert visible_gpus() == ["2", "3"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert visible_gpus() == []
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert visible_gpus() == []


def test_ray_gpus_per_task() -> None:
    assert ray_gpus("cpu", 1, 4) == 0 and ray_gpus("mps", 1, 4) == 0
    assert ray_gpus("auto", 1, 0) == 0  # auto on a cluster without GPUs: the CPU
    assert ray_gpus("auto", 0.5, 2) == 0.5 and ray_gpus("cuda", 1, 2) == 1
    assert ray_gpus("cuda", 0, 2) == 0
    for device, per, cluster, message in [("cuda", 1, 0, "the Ray cluster has 0"),
                                          ("cuda", 2, 1, "asks for 2 GPU"),
                                          ("cuda:1", 1, 2, "name cuda or auto")]:
        with pytest.raises(UserError, match=message) as err:
            ray_gpus(device, per, cluster)
        assert "\n" not in str(err.value)


def report_gpus(arg: float, ctx: object) -> dict[str, str | None]:
    time.sleep(arg)  # keep this worker busy so that the other task goes to the other worker
    return {"gpus": os.environ.get("CUDA_VISIBLE_DEVICES")}


def test_pool_workers_get_their_gpus_before_they_start() -> None:
    ex = PoolExecutor(None, 2, gpus=["0", "1"])
    try:
        for key in ("a", "b"):
            ex.submit(key, report_gpus, 1.0)
        results = [r for _ in range(2) for _, r in ex.wait()]
    finally:
        ex.close()
    assert all(r.ok for r in results), results
    assert sorted(r.value["gpus"] for r in results if r.value) == ["0", "1"]


def test_study_run_says_where_it_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rich.console import Console

    from xner.study.runner import run_study

    small = fake.TOML.replace('label_modes = ["raw", "normalised"]', 'label_modes = ["raw"]')
    console = Console(stderr=True, width=200)
    outcome = run_study(fake.write_config(tmp_path, small), out=tmp_path / "s", backend=fake.BACKEND,
                        console=console, report=False, device="cpu", precision="fp32")
    assert outcome.failed == []
    assert "runs on cpu, fp32" in capsys.readouterr().err


@pytest.mark.slow  # starting Ray takes ~20 s on 2 cores
def test_ray_asks_for_gpus_and_falls_back_without_them(monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'xner[ray]')")
    from xner.study.config import StudyRuntime
    from xner.study.executors import RayExecutor

    ray.init(num_cpus=1, _node_ip_address="127.0.0.1", include_dashboard=False, log_to_driver=False)
    try:
        assert ray.cluster_resources().get("GPU", 0) == 0
        # auto on a cluster without GPUs: no request, the run goes through on the CPU
        ex = RayExecutor(None, runtime=StudyRuntime(device="auto"))
        assert ex.num_gpus == 0 and ex._remote._default_options["num_gpus"] == 0 and "no GPU" in ex.where
        ex.submit("a", dict.fromkeys, ["ran"])  # a task Ray's workers can import: {"ran": None}
        (_, result), = ex.wait()
        assert result.ok and result.value == {"ran": None}, result.error
        ex.close()
        # cuda on a cluster without GPUs: one line at once (Ray would wait for ever)
        with pytest.raises(UserError, match="device cuda: each run asks for 1 GPU.* the Ray cluster has 0"):
            RayExecutor(None, runtime=StudyRuntime(device="cuda"))
        # a cluster with GPUs: each task asks for its share
        resources = {**ray.cluster_resources(), "GPU": 2.0}
        monkeypatch.setattr(ray, "cluster_resources", lambda: resources)
        ex = RayExecutor(None, runtime=StudyRuntime(device="cuda", gpus_per_worker=0.5))
        assert ex.num_gpus == 0.5 and ex._remote._default_options["num_gpus"] == 0.5
        assert ex.where == "Ray: each run asks for 0.5 GPU(s)"
        ex.close()
    finally:
        ray.shutdown()
