"""Self-contained deployment package for an OpenVINO IR or ONNX variant.

The zip holds the variant's graph files, ``config.json`` (label map, preprocessing, output layout), ``predict.py``
(needs only openvino, numpy and pillow; it never imports modelyard), ``requirements.txt`` and a README.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from modelyard.export.files import read_files_manifest
from modelyard.variant.metadata import ExportError, VariantMetadata, read_variant_metadata

TEMPLATE = "predict_template.py"
# predict.py uses the stable openvino 2024+ API (ov.Core, compile_model properties); numpy 1.26 is the oldest
# with wheels for the Pythons openvino supports.
REQUIREMENTS = ["openvino>=2024.0,<2027", "numpy>=1.26,<3", "pillow>=10,<13"]


@dataclass(frozen=True)
class DeploymentPackage:
    path: Path
    members: list[str]


def build_deployment_package(variant_folder: Path, output_zip: Path) -> DeploymentPackage:
    """Write ``output_zip`` for the variant in ``variant_folder`` (which holds variant.json and files.json)."""
    metadata = read_variant_metadata(variant_folder)
    if metadata.format not in ("openvino", "onnx"):
        raise ExportError(f"a deployment package needs an OpenVINO or ONNX variant, not {metadata.format}")
    model_files = [entry.name for entry in read_files_manifest(variant_folder) if entry.name != "variant.json"]
    output_zip.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output_zip, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in model_files:
            archive.write(variant_folder / name, name)
        archive.writestr("config.json", json.dumps(deployment_config(metadata), indent=2) + "\n")
        archive.writestr("predict.py", resources.files("modelyard.deploy").joinpath(TEMPLATE).read_text("utf-8"))
        archive.writestr("requirements.txt", "\n".join(REQUIREMENTS) + "\n")
        archive.writestr("README.md", readme(metadata))
        members = sorted(archive.namelist())
    return DeploymentPackage(output_zip, members)


def deployment_config(metadata: VariantMetadata) -> dict[str, object]:
    """What predict.py reads: everything is plain JSON so the script needs no modelyard types."""
    return {
        "model_file": metadata.model_file,
        "format": metadata.format,
        "precision": metadata.precision,
        "task": metadata.task,
        "architecture_id": metadata.architecture_id,
        "labels": [{"index": label.index, "id": label.id, "name": label.name} for label in metadata.labels],
        "input": metadata.input,
        "input_scaling": metadata.input_scaling,
        "classification_outputs": metadata.classification_outputs,
        "output_names": metadata.output_names,
        "confidence_threshold": metadata.confidence_threshold,
    }


def readme(metadata: VariantMetadata) -> str:
    spec = metadata.input_spec
    label_rows = "\n".join(f"| {label.index} | {label.name} | {label.id} |" for label in metadata.labels)
    output = {
        "multiclass_classification": "`labels` (the top label with its score) and `scores` (every label's probability)",
        "multilabel_classification": "`labels` (every label scoring at least the threshold) and `scores`",
        "detection": "`objects`, each a `label` with its score and a `box` [x, y, width, height] in image pixels",
        "instance_segmentation": "`objects` as for detection plus `mask_rle`, the mask as COCO uncompressed RLE",
    }[metadata.task]
    return f"""# {metadata.architecture_id} ({metadata.task}, {metadata.format} {metadata.precision})

## Usage

```
python -m venv .venv && .venv/bin/pip install -r requirements.txt
.venv/bin/python predict.py image1.jpg image2.png [--threshold {metadata.confidence_threshold}] [--device CPU]
```

`predict.py` prints one JSON object per image: `image`, `width`, `height`, `task` and {output}.

## Preprocessing

Images are turned upright from their EXIF orientation, resized to {spec.size[1]}x{spec.size[0]} (width x height)
with bilinear interpolation ({spec.resize}{", padded right and bottom" if spec.resize == "letterbox" else ""}),
and scaled {
        "to [0, 1], then normalised with mean " + str(spec.mean) + " and std " + str(spec.std)
        if metadata.input_scaling == "normalize"
        else "to [0, 1] (the detector normalises internally)"
    },
channel order {spec.channel_order}. `config.json` holds these settings.

## Labels

| index | name | id |
| --- | --- | --- |
{label_rows}
"""
