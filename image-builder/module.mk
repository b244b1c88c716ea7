# image-builder/: fleetboot-image (a shell script, copied into $(B)/bin so
# the build tree runs as it is) and fleetboot-image-fetch (reads an nbd://
# or iscsi:// disk into a local file with libnbd / libiscsi).
IMG_PKGS := libiscsi libnbd
$(B)/image-builder/fetch.o: CFLAGS += $(shell pkg-config --cflags $(IMG_PKGS) 2>/dev/null)

PROGRAMS += $(B)/bin/fleetboot-image $(B)/bin/fleetboot-image-fetch
$(eval $(call link,$(B)/bin/fleetboot-image-fetch,$(B)/image-builder/fetch.o $(LIBFB),\
	$(call pkglibs,$(IMG_PKGS)) $(SYS_LIBS)))

$(B)/bin/fleetboot-image: image-builder/fleetboot-image
	@mkdir -p $(@D)
	install -m 755 $< $@
