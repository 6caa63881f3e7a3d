# Container images without Docker or a registry: static binaries on an empty base, written as
# docker-archive tarballs by hack/imagebuild (go-containerregistry, as ko does) from the final stage
# of Dockerfile.node / Dockerfile.operator, so both builds agree. `ctr images import` and
# `docker load` take the tarballs. Included by the top-level Makefile.

IMAGE_REPO     ?= ghcr.io/realtimeops
IMAGES_DIR     ?= $(LOCALBIN)/images
# Evaluated once per make run (:=), so every image and images.env carry the same version even if a
# commit lands during the build. Commit time, not build time: the same commit gives the same digest.
ifndef IMAGE_VERSION
IMAGE_VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
endif
ifndef IMAGE_REVISION
IMAGE_REVISION := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
endif
ifndef IMAGE_CREATED
IMAGE_CREATED  := $(shell TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo 1970-01-01T00:00:00Z)
endif
IMAGEBUILD     := $(IMAGES_DIR)/imagebuild
# Debian's ca-certificates bundle; the same path the Dockerfiles copy from golang:1.26 (Debian).
CA_BUNDLE      ?= /etc/ssl/certs/ca-certificates.crt
IMAGE_ARGS      = -arg VERSION=$(IMAGE_VERSION) -arg REVISION=$(IMAGE_REVISION) -arg CREATED=$(IMAGE_CREATED)
IMAGE_GOBUILD   = CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(IMAGE_VERSION)"

# test/images checks the tarballs against the Dockerfiles.
TEST_DEPS += images

##@ Images

.PHONY: images
images: image-node image-operator image-pause ## Build the node and operator images as tarballs in bin/images (no Docker needed).
	@printf 'NODE_IMAGE=%s\nOPERATOR_IMAGE=%s\nPAUSE_IMAGE=%s\nIMAGE_VERSION=%s\n' \
		$(IMAGE_REPO)/realtime-node:$(IMAGE_VERSION) $(IMAGE_REPO)/realtime-operator:$(IMAGE_VERSION) \
		localhost/pause:e2e $(IMAGE_VERSION) > $(IMAGES_DIR)/images.env
	@cat $(IMAGES_DIR)/images.env

.PHONY: imagebuild
imagebuild: | $(IMAGES_DIR)
	cd hack/imagebuild && GOWORK=off CGO_ENABLED=0 $(GO) build -trimpath -o $(IMAGEBUILD) . && \
		GOWORK=off CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o $(IMAGES_DIR)/pause ./pause

$(IMAGES_DIR):
	mkdir -p $@

$(IMAGES_DIR)/passwd: | $(IMAGES_DIR)
	printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > $@
	printf 'root:x:0:\nnonroot:x:65532:\n' > $(IMAGES_DIR)/group

.PHONY: image-node image-operator
image-node image-operator: image-%: imagebuild $(IMAGES_DIR)/passwd
	@test -r $(CA_BUNDLE) || { echo "$(CA_BUNDLE) missing: apt-get install ca-certificates"; exit 1; }
	$(IMAGE_GOBUILD) -o $(IMAGES_DIR)/realtime-$* ./cmd/realtime-$*
	$(IMAGEBUILD) -dockerfile Dockerfile.$* $(IMAGE_ARGS) -o $(IMAGES_DIR)/realtime-$*.tar \
		-tag $(IMAGE_REPO)/realtime-$*:$(IMAGE_VERSION) \
		-file /out/realtime-$*=$(IMAGES_DIR)/realtime-$* -file /out/passwd=$(IMAGES_DIR)/passwd \
		-file /out/group=$(IMAGES_DIR)/group -file /etc/ssl/certs/ca-certificates.crt=$(CA_BUNDLE)

.PHONY: image-pause
image-pause: imagebuild ## Build the pod sandbox image of the real test cluster.
	$(IMAGEBUILD) -dockerfile hack/imagebuild/pause/Dockerfile -o $(IMAGES_DIR)/pause.tar \
		-tag localhost/pause:e2e -file /out/pause=$(IMAGES_DIR)/pause
