#!/usr/bin/env bash
# The container image, built offline with buildah FROM scratch: the static binary, the CA roots,
# a passwd entry for the non-root user, /data (a volume) and /tmp. Nothing is pulled.
#   image.sh VERSION STATIC_BINARY OUT.tar WORKDIR
# Written as an OCI archive (OCI image layout) whose manifest is Docker's schema 2: an OCI image
# config has no HEALTHCHECK, so a pure-OCI manifest would drop the health check; podman and
# docker load this layout and keep it.
set -euo pipefail
version=$1 bin=$2 out=$3 work=$4
uid=65532
commit=$("$bin" --version | sed -n 's/^commit: //p')
rootfs="$work/image-rootfs"
rm -rf "$rootfs"
mkdir -p "$rootfs/usr/local/bin" "$rootfs/etc/ssl/certs" "$rootfs/data" "$rootfs/tmp"
cp "$bin" "$rootfs/usr/local/bin/stepmint"
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/:/sbin/nologin\nstepmint:x:%s:%s:stepmint:/data:/sbin/nologin\n' "$uid" "$uid" >"$rootfs/etc/passwd"
printf 'root:x:0:\nstepmint:x:%s:\n' "$uid" >"$rootfs/etc/group"
chmod 0700 "$rootfs/data"
chmod 1777 "$rootfs/tmp"
# As a tar, so the owners and modes go in as they are (`buildah copy` would make all root's):
# /data belongs to the user, and a new volume on it starts out so.
tar --sort=name --numeric-owner --owner=0 --group=0 -C "$rootfs" -cf "$work/image-rootfs.tar" --exclude=./data .
tar --numeric-owner --owner="$uid" --group="$uid" -C "$rootfs" -rf "$work/image-rootfs.tar" ./data
export BUILDAH_ISOLATION=chroot BUILDAH_FORMAT=docker
ctr=$(buildah from scratch)
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
buildah add --quiet "$ctr" "$work/image-rootfs.tar" / >/dev/null
buildah config \
  --entrypoint '["/usr/local/bin/stepmint", "serve", "--bind", "0.0.0.0"]' \
  --cmd '' \
  --env PATH=/usr/local/bin \
  --env STEPMINT_DATA_DIR=/data \
  --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  --port 8443/tcp \
  --volume /data \
  --workingdir /data \
  --user "$uid:$uid" \
  --stop-signal SIGTERM \
  --healthcheck 'CMD /usr/local/bin/stepmint health' \
  --healthcheck-interval 10s --healthcheck-timeout 5s --healthcheck-start-period 5s --healthcheck-retries 3 \
  --label org.opencontainers.image.title=stepmint \
  --label "org.opencontainers.image.version=$version" \
  --label "org.opencontainers.image.revision=$commit" \
  --label org.opencontainers.image.licenses="MIT OR Apache-2.0" \
  --label org.opencontainers.image.description="A mock of Bitbucket Pipelines' OpenID Connect provider" \
  "$ctr"
image="localhost/stepmint:$version"
buildah commit --quiet --format docker --rm "$ctr" "$image" >/dev/null
trap - EXIT
rm -f "$out"
buildah push --quiet --format v2s2 "$image" "oci-archive:$out:stepmint:$version"
buildah rmi "$image" >/dev/null
echo "image stepmint:$version (user $uid, volume /data, port 8443, health check \`stepmint health\`) -> $out"
