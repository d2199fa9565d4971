#!/bin/sh
# Every example under k8s/examples/ against what amdvirt reads: each
# DeviceConfig loads through --config without a warning of its own and
# gives its mode; each VirtualMachine asks for the resource amdvirt
# advertises (tests/integration/examples.py).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
exec $PY "$top_srcdir/tests/integration/examples.py" "$top_srcdir" "$AMDVIRT" "$TEST_TMP"
