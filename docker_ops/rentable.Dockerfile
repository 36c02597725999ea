# A rentable image from an NGC image (or any other Linux image): OpenSSH server, chpasswd and
# JupyterLab, nothing else. This is the lab manual's "basic configuration", written once.
#
# Only installed, not configured or started: gpurent runs its own entry script in every rented
# container (docker_ops/entry.py), which makes that container's SSH host keys, starts sshd with
# root login, starts jupyter-lab on 8888 in /workspace with a random token, and sets a random
# root password through chpasswd. Host keys baked into the base are removed, so no two
# containers share them. Jupyter is best effort: without it a rental is SSH only.
#
# By hand:  docker build -f rentable.Dockerfile \
#             --build-arg BASE=nvcr.io/nvidia/pytorch:23.10-py3 -t lab/pytorch:23.10-ssh .
# with nearby package mirrors (mainland China, say), add
#             --build-arg APT_MIRROR=https://mirrors.tuna.tsinghua.edu.cn \
#             --build-arg PIP_INDEX=https://pypi.tuna.tsinghua.edu.cn/simple
# The admins' /images prepare builds this same file (docker_ops/rentable.py sets BASE, and
# APT_MIRROR and PIP_INDEX from the config's [prepare] table).
# The build needs the network (a package mirror, PyPI) only for what the base lacks.
ARG BASE=nvcr.io/nvidia/pytorch:20.12-py3
FROM ${BASE}
# APT_MIRROR: scheme://host[:port] put in place of deb.debian.org, security.debian.org,
# (*.)archive.ubuntu.com, security.ubuntu.com and ports.ubuntu.com in the base's apt sources
# (one-line and deb822), paths kept; the image keeps them, so its apt uses the mirror later
# too. Signatures are checked as ever: an https mirror needs the base's ca-certificates.
# PIP_INDEX: the index URL for the JupyterLab install. Empty: the base's own sources.
ARG APT_MIRROR=
ARG PIP_INDEX=
USER root
RUN if [ -n "$APT_MIRROR" ]; then \
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do \
            if [ -f "$f" ]; then \
                sed -i -E -e "s#https?://(deb|security)\.debian\.org/#$APT_MIRROR/#g" \
                    -e "s#https?://(([a-z0-9-]+\.)?archive|security|ports)\.ubuntu\.com/#$APT_MIRROR/#g" "$f"; \
            fi; \
        done; \
    fi
# An image's PATH may leave out the sbin directories where sshd and chpasswd live. apt's
# --reinstall: a base whose package list has openssh-server but whose sshd was deleted.
ENV PATH=${PATH}:/usr/local/sbin:/usr/sbin:/sbin
RUN set -eu; \
    if ! { command -v sshd || [ -x /usr/sbin/sshd ]; } >/dev/null || ! command -v chpasswd >/dev/null; then \
        if command -v apt-get >/dev/null; then \
            apt-get update; \
            DEBIAN_FRONTEND=noninteractive apt-get install -y --reinstall --no-install-recommends openssh-server passwd; \
            rm -rf /var/lib/apt/lists/*; \
        elif command -v apk >/dev/null; then apk add --no-cache openssh shadow; \
        elif command -v dnf >/dev/null; then dnf install -y openssh-server passwd; dnf clean all; \
        elif command -v yum >/dev/null; then yum install -y openssh-server passwd; yum clean all; \
        else echo "rentable: no package manager to install openssh-server with" >&2; exit 1; \
        fi; \
    fi; \
    rm -f /etc/ssh/ssh_host_*; \
    mkdir -p /run/sshd /workspace
RUN if [ -n "$PIP_INDEX" ]; then export PIP_INDEX_URL="$PIP_INDEX"; fi; \
    case "$PIP_INDEX" in http://*) h="${PIP_INDEX#http://}"; export PIP_TRUSTED_HOST="${h%%/*}" ;; esac; \
    command -v jupyter-lab >/dev/null || { \
        { command -v pip3 >/dev/null \
          || { command -v apt-get >/dev/null && apt-get update \
               && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-pip \
               && rm -rf /var/lib/apt/lists/*; } \
          || { command -v apk >/dev/null && apk add --no-cache py3-pip; }; } \
        && { pip3 install --no-cache-dir jupyterlab \
             || pip3 install --no-cache-dir --break-system-packages jupyterlab; }; \
    } || echo "rentable: jupyter-lab could not be installed; rentals of this image are SSH only" >&2
RUN { command -v sshd || test -x /usr/sbin/sshd; } && command -v chpasswd
WORKDIR /workspace
