# cow/: libfbcow.a, the copy-on-write block engine (base + per-machine
# overlay; the on-disk format is cow/FORMAT.md). It uses lib/ only.
COW_SRCS := cow/cow_base.c cow/cow_bdev.c cow/cow_io.c cow/cow_ovl.c
$(eval $(call archive,$(LIBCOW),$(COW_SRCS:%.c=$(B)/%.o)))

# COW_TEST_MAP_FIRST=1: the power-cut test's proof build (cow_io.c
# map_first: the map made durable before its data, deliberately wrong).
# Only into a private tree: make B=build-mapfirst COW_TEST_MAP_FIRST=1
ifeq ($(COW_TEST_MAP_FIRST),1)
ifneq ($(filter build build-san build-fuzz,$(B)),)
$(error COW_TEST_MAP_FIRST=1 builds a broken engine: give it its own tree, e.g. B=build-mapfirst)
endif
$(COW_SRCS:%.c=$(B)/%.o): CFLAGS += -DFB_COW_TEST_MAP_FIRST
endif
