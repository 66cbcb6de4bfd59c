# The reference ARD backend service (`ardlib serve`) as a container image.
#
# Built from the repository root after `make wheelhouse`: every wheel comes from wheelhouse/
# (the locked distributions and ardlib's own), checked against the hashes of
# requirements/lock.txt; nothing is fetched from a package index. `make image` builds it FROM
# a local Debian bookworm base; elsewhere (README, "Container image"):
#
#   make wheelhouse
#   docker build --build-arg BASE=debian:bookworm-slim@sha256:<digest> -t ardlib-service .
#
# BASE must be Debian bookworm on x86-64: its CPython 3.11 matches the cp311 wheels of the
# lock. python3 and python3-venv are installed from the base's apt sources only when the base
# lacks them (debian:bookworm-slim does; make image's base has them and builds offline).
# The default below is debian:bookworm-slim of 2026-08-03 (docker-library/repo-info).
ARG BASE=debian:bookworm-slim@sha256:abd67ffcfa541b485a3dff59865ab629aa048a6c613e639d36e7456b0b229241

FROM ${BASE} AS python
RUN if ! command -v python3 >/dev/null; then \
        apt-get update \
        && apt-get install -y --no-install-recommends \
            python3=3.11.2-1+b1 python3-venv=3.11.2-1+b1 \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && python3 -c 'import sys; v = sys.version_info[:2]; sys.exit(None if v == (3, 11) else \
        f"BASE has Python {v[0]}.{v[1]}; the wheelhouse holds CPython 3.11 (cp311) wheels")' \
    && python3 -m venv --without-pip /opt/ardlib

# What the service needs: `ardlib[service]` resolved offline against the wheelhouse, each
# distribution then taken from the lock with its hashes (scripts/lock_subset.py). ardlib's
# wheel is copied, not only mounted, so that a new wheel invalidates the cached steps after
# it: podman (buildah) does not key its layer cache on the files of a bind mount.
FROM python AS requirements
WORKDIR /build
COPY requirements/lock.txt scripts/lock_subset.py wheelhouse/ardlib-*.whl ./
RUN --mount=type=bind,source=wheelhouse,target=/wheelhouse \
    set -- /wheelhouse/pip-*.whl \
    && python3 lock_subset.py lock.txt --verify "$1" \
    && /opt/ardlib/bin/python "$1/pip" install --dry-run --ignore-installed \
        --no-index --find-links /wheelhouse --quiet --report report.json "ardlib[service]" \
    && python3 lock_subset.py lock.txt report.json --local ardlib > requirements.txt

FROM python
LABEL org.opencontainers.image.title="ardlib-service" \
      org.opencontainers.image.description="Reference ARD backend service (ardlib serve)" \
      org.opencontainers.image.licenses="MIT"
RUN groupadd --system --gid 10001 ardlib \
    && useradd --system --uid 10001 --gid ardlib --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin ardlib \
    && install -d -o ardlib -g ardlib -m 0750 /data
# The locked pip (its wheel checked against the lock above), run from its wheel ($1),
# installs the hashed subset into the venv; pip itself is not installed. The subset stays
# in the image as the record of what is installed.
COPY --from=requirements /build/requirements.txt /opt/ardlib/requirements.txt
RUN --mount=type=bind,source=wheelhouse,target=/wheelhouse \
    set -- /wheelhouse/pip-*.whl \
    && /opt/ardlib/bin/python "$1/pip" install --no-cache-dir --no-index \
        --find-links /wheelhouse --require-hashes --only-binary=:all: \
        -r /opt/ardlib/requirements.txt \
    && /opt/ardlib/bin/ardlib serve --help >/dev/null
ENV PATH=/opt/ardlib/bin:$PATH \
    DATABASE_URL=sqlite:////data/ardlib-service.db \
    PYTHONUNBUFFERED=1
WORKDIR /data
VOLUME ["/data"]
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
ENTRYPOINT ["ardlib"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
