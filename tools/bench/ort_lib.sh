#!/usr/bin/env bash
# Prints the path of ONNX Runtime's CPU library, installing the npm package
# onnxruntime-node (scripts not run: the library ships inside the package)
# into tools/bench/node_modules (ignored by git) when it is missing. Used by
# run.sh and by CI's check of the QDQ fixtures against ONNX Runtime.
set -euo pipefail

ORT_VERSION=1.30.0
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pkg="$here/node_modules/onnxruntime-node"

case "$(uname -s)/$(uname -m)" in
Linux/x86_64) platform=linux/x64 ;;
Linux/aarch64 | Linux/arm64) platform=linux/arm64 ;;
*)
	echo "ort_lib.sh: no ONNX Runtime CPU library for $(uname -s)/$(uname -m) in onnxruntime-node" >&2
	exit 1
	;;
esac

installed="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$pkg/package.json" 2>/dev/null || true)"
if [ "$installed" != "$ORT_VERSION" ]; then
	echo "ort_lib.sh: installing onnxruntime-node@$ORT_VERSION into tools/bench/node_modules" >&2
	npm install --prefix "$here" --no-save --no-package-lock --ignore-scripts --no-audit --no-fund \
		"onnxruntime-node@$ORT_VERSION" >&2
fi
lib="$(ls "$pkg"/bin/napi-v*/"$platform"/libonnxruntime.so* 2>/dev/null | head -n 1 || true)"
if [ -z "$lib" ]; then
	echo "ort_lib.sh: libonnxruntime.so not found under $pkg/bin/*/$platform" >&2
	exit 1
fi
echo "$lib"
