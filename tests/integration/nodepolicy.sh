#!/bin/sh
# The ValidatingAdmissionPolicy of k8s/components/node-policy, rendered by
# kustomize and evaluated as the API server would against sample requests
# (tests/integration/nodepolicy.py, CEL by tests/peers/cel.py), and against
# every label key amdvirt writes on the scenarios' hosts.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
if ! command -v kubectl >/dev/null 2>&1; then
	echo "SKIP: kubectl not found; the admission policy is not rendered"
	exit 77
fi
kubectl kustomize "$top_srcdir/k8s" >"$TEST_TMP/rendered.yaml" || { echo "not ok - kubectl kustomize k8s/"; exit 1; }
# Every label amdvirt writes: each mode's scenario, and the DeviceConfig
# keys from an example with driver management on.
$PY -c 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), open(sys.argv[2], "w"))' \
	"$top_srcdir/k8s/examples/deviceconfig-vf-managed.yaml" "$TEST_TMP/dc.json"
: >"$TEST_TMP/keys"
for s in mi300x-vf mi300x-pf mi300x-container mi210-hives mixed; do
	root=$(build_host $s)
	for cfg in "" "--config $TEST_TMP/dc.json"; do
		# shellcheck disable=SC2086
		"$AMDVIRT" --root "$root" $cfg labels --json 2>/dev/null |
			$PY -c 'import json, sys; print("\n".join(json.load(sys.stdin)))' >>"$TEST_TMP/keys" || true
	done
done
exec $PY "$top_srcdir/tests/integration/nodepolicy.py" "$top_srcdir" "$TEST_TMP/rendered.yaml" "$TEST_TMP/keys"
