# The gpurent bot in a container. It talks to Docker hosts through their sockets/URLs, so
# mount the local socket for a single-machine setup:
#   docker build -t gpurent .
#   docker run -d --name gpurent -e GPURENT_BOT_TOKEN=... \
#     -v /var/run/docker.sock:/var/run/docker.sock -v gpurent-data:/var/lib/gpurent \
#     -v $PWD/gpurent.toml:/etc/gpurent/gpurent.toml:ro gpurent
# Workspace roots in the config are paths on the Docker hosts, not in this container.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /src
COPY pyproject.toml setup.cfg README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY docker_ops ./docker_ops
COPY billing ./billing
COPY models ./models
RUN pip install --no-cache-dir . && rm -rf /src

WORKDIR /var/lib/gpurent
VOLUME ["/var/lib/gpurent"]
ENTRYPOINT ["gpurent"]
CMD ["run", "--config", "/etc/gpurent/gpurent.toml"]
