"""Train the irrigation model on the exported data set and convert it to ONNX.

    python models/irrigation/train.py --data models/irrigation/data --out models/irrigation --seed 42

Reads train.csv / validation.csv / test.csv written by services/training/scripts/export-dataset.ts,
fits one gradient-boosted tree ensemble per horizon on the residual of the FAO-56 prior
(fao_depletion_24h_mm, fao_depletion_48h_mm), and writes:

- model.onnx: input "features" float32 [N, F] in the order of the CSV, output "depletion_mm"
  float32 [N, 2] = root-zone depletion 24 h and 48 h ahead (mm), prior + residual, in one graph;
- test-vectors.json: held-out rows with the Python predictions, for the TypeScript runtime test;
- train-report.json: what was trained on, hyperparameters, library versions, Python-side metrics.
"""

import argparse
import csv
import hashlib
import json
import os
import random

import numpy as np
import onnx
import onnxruntime as ort
import sklearn
import skl2onnx
from onnx import TensorProto, helper, numpy_helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.multioutput import MultiOutputRegressor

META_COLUMNS = [
    "field_id", "climate", "soil", "crop", "ts", "taw_true_mm", "raw_true_mm", "depletion_now_true_mm", "hours_to_raw_true",
]
TARGETS = ["depletion_24h_mm", "depletion_48h_mm"]
BASES = ["fao_depletion_24h_mm", "fao_depletion_48h_mm"]
OPSET = {"": 17, "ai.onnx.ml": 3}  # what onnxruntime-node 1.30 accepts

# skl2onnx 1.20 hands numpy unsigned integers and booleans (tree node ids and missing-value
# flags of HistGradientBoosting) to onnx.helper.make_attribute, which rejects them under numpy 2;
# plain ints are what it expects.
_make_attribute = helper.make_attribute


def _make_attribute_with_numpy_ints(key, value, *args, **kwargs):
    int_like = (np.integer, np.bool_, bool)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, int_like + (int,)) for v in value):
        value = [int(v) for v in value]
    return _make_attribute(key, value, *args, **kwargs)


helper.make_attribute = _make_attribute_with_numpy_ints

HYPERPARAMETERS = dict(
    loss="absolute_error",
    max_iter=200,
    learning_rate=0.15,
    max_leaf_nodes=24,
    min_samples_leaf=60,
    l2_regularization=1.0,
    early_stopping=False,
)


def load(path):
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    features = [c for c in header if c not in META_COLUMNS and c not in TARGETS]
    idx = {c: i for i, c in enumerate(header)}
    x = np.array([[float(r[idx[c]]) for c in features] for r in rows], dtype=np.float32)
    y = np.array([[float(r[idx[c]]) for c in TARGETS] for r in rows], dtype=np.float64)
    return features, x, y


def add_prior(model_proto, feature_names):
    """Make the graph output prior + residual, so ONNX returns depletion, not a correction."""
    graph = model_proto.graph
    residual = graph.output[0].name
    base_idx = [feature_names.index(b) for b in BASES]
    graph.initializer.append(numpy_helper.from_array(np.array(base_idx, dtype=np.int64), "prior_columns"))
    graph.node.append(helper.make_node("Gather", ["features", "prior_columns"], ["prior"], axis=1, name="GatherPrior"))
    graph.node.append(helper.make_node("Add", ["prior", residual], ["depletion_mm"], name="AddPrior"))
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info("depletion_mm", TensorProto.FLOAT, [None, 2]))
    onnx.checker.check_model(model_proto)
    return model_proto


def mae(a, b):
    return float(np.mean(np.abs(a - b)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="models/irrigation/data")
    ap.add_argument("--out", default="models/irrigation")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--vectors", type=int, default=256)
    args = ap.parse_args()
    random.seed(args.seed)
    np.random.seed(args.seed)

    features, x_train, y_train = load(os.path.join(args.data, "train.csv"))
    _, x_val, y_val = load(os.path.join(args.data, "validation.csv"))
    _, x_test, y_test = load(os.path.join(args.data, "test.csv"))
    base_idx = [features.index(b) for b in BASES]
    prior = lambda x: x[:, base_idx].astype(np.float64)

    model = MultiOutputRegressor(HistGradientBoostingRegressor(random_state=args.seed, **HYPERPARAMETERS))
    model.fit(x_train, y_train - prior(x_train))
    predict = lambda x: model.predict(x) + prior(x)

    onx = convert_sklearn(
        model,
        initial_types=[("features", FloatTensorType([None, len(features)]))],
        target_opset=OPSET,
        options={id(model): {}},
    )
    onx = add_prior(onx, features)
    # skl2onnx names the graph with a random UUID; a fixed name keeps the file byte-identical
    # across retrains from the same seed, so the card's sha256 reproduces.
    onx.graph.name = "fieldhook_irrigation"
    onx.producer_name = "fieldhook-train"
    onx.doc_string = "fieldhook irrigation model: root-zone depletion 24 h and 48 h ahead (mm)"
    model_path = os.path.join(args.out, "model.onnx")
    data = onx.SerializeToString()
    with open(model_path, "wb") as f:
        f.write(data)

    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    onnx_test = session.run(None, {"features": x_test})[0].astype(np.float64)
    sk_test = predict(x_test)
    max_diff = float(np.max(np.abs(onnx_test - sk_test)))

    rng = np.random.default_rng(args.seed)
    pick = np.sort(rng.choice(len(x_test), size=min(args.vectors, len(x_test)), replace=False))
    vectors = {
        "description": "Held-out feature rows (float32) and the predictions of the Python side: "
        "sklearn (prior + residual) and onnxruntime on model.onnx.",
        "features": features,
        "outputs": TARGETS,
        "rows": [
            {
                "features": [float(v) for v in x_test[i]],
                "sklearn": [float(v) for v in sk_test[i]],
                "onnxruntime_python": [float(v) for v in onnx_test[i]],
            }
            for i in pick
        ],
    }
    with open(os.path.join(args.out, "test-vectors.json"), "w") as f:
        json.dump(vectors, f, indent=1)
        f.write("\n")

    report = {
        "seed": args.seed,
        "algorithm": "sklearn MultiOutputRegressor(HistGradientBoostingRegressor), one per horizon, "
        "fitted on the residual of the FAO-56 prior; the ONNX graph adds the prior back",
        "hyperparameters": HYPERPARAMETERS,
        "features": features,
        "targets": TARGETS,
        "samples": {"train": len(x_train), "validation": len(x_val), "test": len(x_test)},
        "python_metrics_mae_mm": {
            "train_24h": mae(predict(x_train)[:, 0], y_train[:, 0]),
            "validation_24h": mae(predict(x_val)[:, 0], y_val[:, 0]),
            "test_24h": mae(sk_test[:, 0], y_test[:, 0]),
            "test_48h": mae(sk_test[:, 1], y_test[:, 1]),
        },
        "onnx_vs_sklearn_max_abs_diff_mm": max_diff,
        "opset": OPSET,
        "model_bytes": len(data),
        "model_sha256": hashlib.sha256(data).hexdigest(),
        "versions": {
            "python": ".".join(map(str, __import__("sys").version_info[:3])),
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
            "skl2onnx": skl2onnx.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": ort.__version__,
        },
    }
    with open(os.path.join(args.out, "train-report.json"), "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    print(json.dumps({k: report[k] for k in ("samples", "python_metrics_mae_mm", "onnx_vs_sklearn_max_abs_diff_mm", "model_bytes")}))


if __name__ == "__main__":
    main()
