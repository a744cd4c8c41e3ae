#!/usr/bin/env bash
# Checks an exported model with the ONNX project's own checker (Debian's python3-onnx):
#   scripts/onnx-check.sh model.onnx
# Not part of mvn verify; needs `apt-get install -y python3-onnx`.
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 MODEL.onnx" >&2
  exit 2
fi
/usr/bin/python3 - "$1" <<'PY'
import sys
import onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
print("onnx", onnx.__version__, "checker: OK,", sys.argv[1], "ir_version", m.ir_version,
      "opset", [(o.domain or "ai.onnx", o.version) for o in m.opset_import],
      "nodes", len(m.graph.node), "initializers", len(m.graph.initializer))
print("inputs", [(i.name, [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]) for i in m.graph.input])
print("outputs", [(o.name, [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]) for o in m.graph.output])
print("metadata", sorted(p.key for p in m.metadata_props))
PY
