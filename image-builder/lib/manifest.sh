# shellcheck shell=bash
# shellcheck disable=SC2034 # globals shared by the builder's parts
# manifest.sh - the image's manifest.json: where it came from, what is in
# it and how to check it (sha256 of every file). `fleetboot image import`
# stores it next to the files.

# file_json PATH: {"size": N, "sha256": "..."} of a file.
file_json() {
	local size sum
	size=$(stat -L -c %s "$1")
	sum=$(sha256sum "$1" | awk '{ print $1 }')
	printf '{"size": %s, "sha256": "%s"}' "$size" "$sum"
}

write_manifest() {
	local out=$1 now
	now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	step "computing checksums"
	{
		printf '{\n'
		printf '  "format": 1,\n'
		printf '  "name": %s,\n' "$(json_str "$NAME")"
		printf '  "source": %s,\n' "$(json_str "$(redact "$FROM")")"
		printf '  "source_kind": %s,\n' "$(json_str "$SOURCE_KIND")"
		if [ -n "$SUITE" ]; then printf '  "suite": %s,\n' "$(json_str "$SUITE")"; else printf '  "suite": null,\n'; fi
		printf '  "builder": %s,\n' "$(json_str "fleetboot-image $BUILDER_VERSION")"
		printf '  "built": %s,\n' "$(json_str "$now")"
		printf '  "build_seconds": %d,\n' "$(($(date +%s) - T0))"
		printf '  "kernel_version": %s,\n' "$(json_str "$KVER")"
		[ -z "$OPT_CMDLINE" ] || printf '  "cmdline": %s,\n' "$(json_str "$OPT_CMDLINE")"
		printf '  "rootfs": {"filesystem": "ext4", "size": %d, "content_bytes": %d},\n' "$ROOTFS_SIZE" "$ROOTFS_CONTENT"
		printf '  "files": {\n'
		printf '    "rootfs.img": %s,\n' "$(file_json "$ROOTFS_IMG")"
		printf '    "vmlinuz": %s,\n' "$(file_json "$KERNEL")"
		printf '    "initrd.img": %s\n' "$(file_json "$INITRD")"
		printf '  },\n'
		[ -z "$EXTRA_JSON" ] || printf '  %s,\n' "$EXTRA_JSON"
		printf '  "packages": %s\n' "$PACKAGES_JSON"
		printf '}\n'
	} >"$out"
}
