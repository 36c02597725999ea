"""Docker hosts, rental containers, images and GPU inventory.

The only package that imports `docker` or `pynvml`. Every SDK call runs through
`Engine.call`, off the event loop, and fails with a `DockerOpsError` subclass.

Nothing is imported here on purpose: `docker_ops.imageref` is pure and is used by the use
cases, which must not pull the Docker SDK in. Import the submodules you need.
"""
