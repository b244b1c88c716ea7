# image-builder/: fleetboot-image (a shell script, copied into $(B)/bin so
# the build tree runs as it is) and fleetboot-image-fetch (C: reads an
# nbd:// or iscsi:// disk into a local file with libnbd / libiscsi).
IMG_PKGS := libiscsi libnbd
IMG_CFLAGS := $(shell pkg-config --cflags $(IMG_PKGS) 2>/dev/null)
IMG_LIBS := $(shell pkg-config --libs $(IMG_PKGS) 2>/dev/null)

BINS += $(B)/bin/fleetboot-image $(B)/bin/fleetboot-image-fetch

$(B)/image-builder/fetch.o: ALL_CFLAGS += $(IMG_CFLAGS)

$(B)/bin/fleetboot-image-fetch: $(B)/image-builder/fetch.o $(LIBFB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(IMG_LIBS) $(PKG_LIBS) -lpthread

$(B)/bin/fleetboot-image: image-builder/fleetboot-image
	@mkdir -p $(dir $@)
	install -m 755 $< $@

.PHONY: image-builder
image-builder: $(B)/bin/fleetboot-image $(B)/bin/fleetboot-image-fetch
