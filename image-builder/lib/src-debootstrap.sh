# shellcheck shell=bash
# shellcheck disable=SC2034 # globals shared by the builder's parts
src_debootstrap() { die "debootstrap: not yet"; }
