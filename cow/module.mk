# cow/: libfbcow.a, the copy-on-write block engine (base + per-machine
# overlay; the on-disk format is cow/FORMAT.md). It uses lib/ only.
COW_SRCS := cow/cow_base.c cow/cow_bdev.c cow/cow_io.c cow/cow_ovl.c
$(eval $(call archive,$(LIBCOW),$(COW_SRCS:%.c=$(B)/%.o)))
