#!/usr/bin/env bash
# Benchmarks signet against ONNX Runtime on the same ONNX models.
#
#   tools/bench/run.sh [bench flags]          e.g. -threads 1 -n 50
#   tools/bench/run.sh -markdown BENCHMARKS.md
#
# Installs ONNX Runtime's CPU library from the npm package onnxruntime-node
# into tools/bench/node_modules (ignored by git) when it is missing, exports
# the full-size torchvision models when they are missing (needs python3 with
# torch, torchvision and onnx), builds the harness and runs it from the
# repository root. Every flag is passed to the harness; see README.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
lib="$(bash "$here/ort_lib.sh")"

# The default model set needs the full-size networks, which are generated
# rather than committed.
full=(resnet18 resnet50 mobilenet_v2 mobilenet_v3_small efficientnet_b0 squeezenet1_1) # tools/bench's fullSizeModels
missing=()
for m in "${full[@]}"; do
	[ -f "$root/testdata/torchvision-full/$m/model.onnx" ] || missing+=("$m")
done
if [[ " $* " != *" -models"* && " $* " != *" --models"* ]] && [ ${#missing[@]} -gt 0 ]; then
	echo "run.sh: exporting the full-size torchvision models ${missing[*]} (testdata/torchvision-full)" >&2
	(cd "$root" && python3 tools/testdata-gen/export_torchvision.py --full --only "$(IFS=,; echo "${missing[*]}")")
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$here" && go build -o "$tmp/bench" .)

cd "$root"
export LD_LIBRARY_PATH="$(dirname "$lib")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
"$tmp/bench" -root "$root" -ort-lib "$lib" -command "tools/bench/run.sh $*" "$@"
