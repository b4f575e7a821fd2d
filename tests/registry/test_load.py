"""`client.registry.load(...)` returns something that predicts: a torch module or a compiled OpenVINO model."""

from __future__ import annotations

from pathlib import Path

from modelyard.sdk.registry import Registry


def test_load_returns_the_pytorch_module_of_the_production_version(registry: Registry, tmp_path: Path) -> None:
    import torch

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Softmax(dim=1))
    torch.save(module, tmp_path / "model.pt")
    registry.register("digits", create_model=True, framework="pytorch", label_map={0: "a", 1: "b", 2: "c"},
                      files=[tmp_path / "model.pt"])  # fmt: skip
    registry.set_alias("digits", "production", 1)

    loaded = registry.load("digits@production", folder=tmp_path / "loaded")

    assert isinstance(loaded, torch.nn.Sequential) and not loaded.training
    sample = torch.rand(2, 4)
    assert torch.allclose(loaded(sample), module(sample))
    assert (tmp_path / "loaded" / "model.pt").exists()


def test_load_returns_a_compiled_openvino_model(registry: Registry, tmp_path: Path) -> None:
    import numpy as np
    import openvino
    import openvino.opset13 as ops

    source = tmp_path / "ir"
    source.mkdir()
    x = ops.parameter([1, 3], np.float32, name="x")
    doubled = ops.multiply(x, ops.constant(np.full((1, 3), 2.0, np.float32)))
    openvino.save_model(openvino.Model([doubled], [x], "double"), source / "model.xml")
    registry.register("ov", create_model=True, framework="openvino",
                      files=[source / "model.xml", source / "model.bin"])  # fmt: skip

    compiled = registry.load("ov/latest")

    assert registry.version("ov/1").deployable is True
    result = compiled(np.array([[1.0, 2.0, 3.0]], np.float32))[0]
    assert result.tolist() == [[2.0, 4.0, 6.0]]
