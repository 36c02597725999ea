# The gpurent bot in a container. It drives the Docker engines its config names (this machine's
# through the mounted socket, others over TLS or SSH) and keeps SQLite on a volume; deploy/ has a
# compose file (bot + PostgreSQL) and a systemd unit, docs/admin-guide.md the whole setup.
#
#   docker build -t gpurent .
#   docker run -d --name gpurent --restart unless-stopped -e GPURENT_BOT_TOKEN=... \
#     --group-add "$(stat -c %g /var/run/docker.sock)" \
#     -v /var/run/docker.sock:/var/run/docker.sock \
#     -v /etc/gpurent:/etc/gpurent:ro -v gpurent-data:/var/lib/gpurent \
#     --gpus all gpurent
#
# The bot runs as user gpurent (uid 10001); --group-add gives it the socket's group, nothing
# more. --gpus all is only for `gpus = "nvml"`: NVIDIA's runtime then mounts NVML into the
# container. Workspace roots in the config are paths on the Docker hosts, not in here.
#
# Offline (or with a slow index): `pip wheel '.[postgres]' pip -w wheelhouse` first; the build
# then installs from ./wheelhouse with --no-index. BASE: any Python >= 3.11 image with pip.
ARG BASE=python:3.11-slim
FROM ${BASE}

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore \
    NVIDIA_DRIVER_CAPABILITIES=utility

COPY . /src
RUN set -eu; \
    if [ -d /src/wheelhouse ]; then \
        python3 -m pip install --no-index --find-links /src/wheelhouse 'gpurent[postgres]'; \
    else \
        python3 -m pip install '/src[postgres]'; \
    fi; \
    rm -rf /src; \
    python3 -c 'import docker, paramiko, psycopg2, pynvml, telegram'; \
    useradd --system --uid 10001 --user-group --no-create-home --home-dir /var/lib/gpurent \
        --shell /usr/sbin/nologin gpurent; \
    install -d -o gpurent -g gpurent -m 0750 /var/lib/gpurent; \
    install -d -m 0755 /etc/gpurent

USER gpurent
WORKDIR /var/lib/gpurent
VOLUME ["/var/lib/gpurent"]
# gpurent health: the bot's tick renewed its database lease within 3 minutes (bot/health.py).
HEALTHCHECK --interval=1m --timeout=30s --start-period=2m --retries=3 \
    CMD ["gpurent", "health", "--config", "/etc/gpurent/gpurent.toml"]
ENTRYPOINT ["gpurent"]
CMD ["run", "--config", "/etc/gpurent/gpurent.toml"]
