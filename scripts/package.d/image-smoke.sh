#!/usr/bin/env bash
# Runs the image with podman and checks it from the host, as a relying party would see it:
# discovery and the token's `iss` name the published URL (STEPMINT_PUBLIC_URL), a verifier on the
# host accepts a token minted in the container, the health check passes, the server runs as
# the non-root user, the console is served, SIGTERM stops it cleanly, and the data volume keeps
# the CA and keys across a restart. Prints start-to-ready time and idle RSS beside the bare
# binary's.   image-smoke.sh VERSION OCI_ARCHIVE HOST_BINARY STATIC_BINARY WORKDIR
set -euo pipefail
version=$1 archive=$2 host_bin=$3 static_bin=$4 work=$5
ref="localhost/stepmint:$version"
name="stepmint-smoke-$$"
volume="stepmint-smoke-$$"
fail() { echo "image smoke test: $*" >&2; podman logs "$name" 2>&1 | tail -20 >&2 || true; exit 1; }
cleanup() {
  podman rm -f "$name" >/dev/null 2>&1 || true
  podman volume rm -f "$volume" >/dev/null 2>&1 || true
  podman rmi -f "$ref" >/dev/null 2>&1 || true
  [ -n "${bare_pid:-}" ] && kill "$bare_pid" 2>/dev/null || true
}
trap cleanup EXIT
podman load -q -i "$archive" >/dev/null
podman image exists "$ref" || fail "loading $archive gave no $ref"
inspect() { podman image inspect --format "$1" "$ref"; }
[ "$(inspect '{{.Config.User}}')" = "65532:65532" ] || fail "the image does not run as 65532"
inspect '{{json .Config.Volumes}}' | grep -q '"/data"' || fail "/data is not a volume"
inspect '{{json .Config.Entrypoint}}' | grep -q '"serve","--bind","0.0.0.0"' || fail "entrypoint: $(inspect '{{json .Config.Entrypoint}}')"
podman image inspect "$ref" | grep -q '"Healthcheck"' || fail "the image has no health check"
[ "$(inspect '{{index .Labels "org.opencontainers.image.version"}}')" = "$version" ] || fail "the image's version label is not $version"

# The flags this host's podman needs: none, or lower rlimits (a host that may not raise them)
# and runc (crun refuses hybrid cgroups).
flags=()
if [ -n "${PODMAN_RUN_FLAGS:-}" ]; then
  read -ra flags <<<"$PODMAN_RUN_FLAGS"
else
  n=$(ulimit -Hn)
  [ "$n" = unlimited ] && n=65536
  found=0
  for candidate in "" "--ulimit nofile=$n:$n --ulimit nproc=4096:4096" "--runtime runc --ulimit nofile=$n:$n --ulimit nproc=4096:4096"; do
    read -ra flags <<<"$candidate"
    if podman run --rm "${flags[@]}" --entrypoint /usr/local/bin/stepmint "$ref" --version >/dev/null 2>&1; then
      found=1
      break
    fi
  done
  [ "$found" -eq 1 ] || fail "podman cannot run the image here: $(podman run --rm --entrypoint /usr/local/bin/stepmint "$ref" --version 2>&1 | tail -1)"
fi
echo "podman run flags: ${flags[*]:-(none)}"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Milliseconds from $1 (epoch ns) until discovery answers at https://localhost:$2 (any CA).
ready_ms() {
  python3 - "$1" "$2" <<'PY'
import ssl, sys, time, urllib.request
start, port = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
url = f"https://localhost:{port}/2.0/workspaces/stepmint/pipelines-config/identity/oidc/.well-known/openid-configuration"
deadline = time.time() + 60
while True:
    try:
        urllib.request.urlopen(url, context=ctx, timeout=2).read()
        break
    except Exception:
        if time.time() > deadline:
            sys.exit("not ready within 60 s")
        time.sleep(0.01)
print(round((time.time_ns() - start) / 1e6))
PY
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

port=$(free_port)
public="https://localhost:$port"
issuer="$public/2.0/workspaces/stepmint/pipelines-config/identity/oidc"
t0=$(date +%s%N)
# (Without systemd, podman says it cannot schedule the periodic health check: kept out of sight.)
podman run -d --name "$name" "${flags[@]}" -p "127.0.0.1:$port:8443" -v "$volume:/data" \
  -e "STEPMINT_PUBLIC_URL=$public" "$ref" >/dev/null 2>"$work/podman-run.err" \
  || fail "podman run: $(cat "$work/podman-run.err")"
container_ready=$(ready_ms "$t0" "$port") || fail "the container never answered on $public"
pid=$(podman inspect --format '{{.State.Pid}}' "$name")
grep -q "^Uid:[[:space:]]*65532[[:space:]]" "/proc/$pid/status" || fail "the server does not run as uid 65532"
podman healthcheck run "$name" >/dev/null || fail "the health check fails on a running server"
exe() { podman exec "$name" stepmint "$@"; }
exe ca pem >"$work/container-ca.pem"
discovery=$(curl -sf --cacert "$work/container-ca.pem" "$issuer/.well-known/openid-configuration") \
  || fail "discovery over the published port failed (the certificate must name localhost)"
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["issuer"]==sys.argv[2], d["issuer"]; assert d["jwks_uri"].startswith(sys.argv[2]), d["jwks_uri"]' "$discovery" "$issuer" \
  || fail "discovery does not name the published URL $issuer"
token=$(exe mint --audience smoke)
"$host_bin" verify "$token" --issuer "$issuer" --audience smoke --ca "$work/container-ca.pem" >/dev/null \
  || fail "a verifier on the host refused the container's token"
python=${STEPMINT_PYTHON:-python3}
if "$python" -c 'import jwt, cryptography' 2>/dev/null; then
  "$python" examples/pyjwt/verify.py --issuer "$issuer" --audience smoke --ca "$work/container-ca.pem" "$token" >/dev/null \
    || fail "PyJWT on the host refused the container's token"
  echo "PyJWT on the host accepts the container's token"
fi
page=$(curl -s -o /dev/null -w '%{http_code} %{content_type}' --cacert "$work/container-ca.pem" "$public/_stepmint/ui/")
[[ "$page" == "200 text/html"* ]] || fail "the console answered $page"
kids=$(curl -sf --cacert "$work/container-ca.pem" "$issuer/keys.json")
container_rss=$(rss_kb "$pid")
echo "container: first start ready in ${container_ready} ms (making the CA and keys), idle RSS $((container_rss / 1024)) MB; iss $issuer verified on the host"

podman stop -t 10 "$name" >/dev/null
[ "$(podman inspect --format '{{.State.ExitCode}}' "$name")" = 0 ] || fail "SIGTERM did not stop the server cleanly"
t0=$(date +%s%N)
podman start "$name" >/dev/null 2>>"$work/podman-run.err"
restart_ready=$(ready_ms "$t0" "$port") || fail "the restarted container never answered"
[ "$(curl -sf --cacert "$work/container-ca.pem" "$issuer/keys.json")" = "$kids" ] \
  || fail "after a restart on the same volume the CA or the keys changed"
echo "restart on the same volume: same CA, same keys; ready in ${restart_ready} ms (keys and CA persisted)"
podman rm -f "$name" >/dev/null

# The bare static binary, measured the same way.
bare_data="$work/bare-data"
"$static_bin" mint --data-dir "$bare_data" >/dev/null
"$static_bin" ca path --data-dir "$bare_data" >/dev/null
port=$(free_port)
t0=$(date +%s%N)
"$static_bin" serve --port "$port" --data-dir "$bare_data" >/dev/null 2>&1 &
bare_pid=$!
bare_ready=$(ready_ms "$t0" "$port")
echo "bare static binary: ready in ${bare_ready} ms (keys and CA persisted), idle RSS $(( $(rss_kb "$bare_pid") / 1024 )) MB"
