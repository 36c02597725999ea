"""gpurent's test rig: real Docker engines playing GPU servers, for integration and e2e tests.

- `engines.Engine`: one extra dockerd ("HPC1", "HPC2") with fake GPUs and a GPU-hook fault.
- `image`: the debootstrapped test image, cached under GPURENT_TEST_CACHE and imported per engine.
- `registry.Registry`: a loopback registry, so pulls are real.
- `rig.Rig`: all of the above, started once; `plugin` exposes it to pytest.
"""
