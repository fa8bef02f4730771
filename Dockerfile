# The image of `shep`: the operator (`shep operator`) and the route workloads (`shep route`) run the
# same binary. Non-root (65532), no shell, read-only root filesystem friendly.
# This machine has no container engine, so the image is not built by `make test`; the binary in it is.
FROM rust:1.89-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin shep

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/shep /usr/local/bin/shep
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/shep"]
