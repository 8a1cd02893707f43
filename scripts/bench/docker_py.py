"""The docker-py half of scripts/bench/docker: N workers created, started, inspected, stopped and
removed through docker-py's APIClient (what the original Python implementation used), one at a time
and C at a time on threads sharing one client. Prints `docker-py <mode> <seconds>`.

usage: docker_py.py SOCKET IMAGE WORKERS CONCURRENCY PORT_BASE
"""
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import docker

socket, image, workers, concurrency, port_base = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
# version="auto" negotiates once, here, before the clock starts; the pool holds C connections.
client = docker.APIClient(base_url=f"unix://{socket}", version="auto", max_pool_size=max(concurrency, 10))


def cycle(mode, index):
    name = f"bench-dockerpy-{mode}-{index}"
    port = port_base + index
    host_config = client.create_host_config(
        network_mode="host", restart_policy={"Name": "no"}, mem_limit=1 << 30, init=True,
        mounts=[docker.types.Mount(target="/app/.sessions", source=f"{name}-sessions", type="volume")],
    )
    container = client.create_container(
        image, name=name, environment={"WAHA_SIM_HOST": "127.0.0.1", "PORT": str(port)},
        labels={"whago.instance": "bench", "whago.worker": name}, host_config=host_config,
    )
    client.start(container["Id"])
    client.inspect_container(container["Id"])
    client.stop(container["Id"], timeout=0)
    client.remove_container(container["Id"], force=True)


def per_call():
    """The client's own cost: 500 inspections of one worker. Prints `docker-py inspect-us <us>`."""
    container = client.create_container(
        image, name="bench-dockerpy-calls", environment={"WAHA_SIM_HOST": "127.0.0.1", "PORT": str(port_base + workers)},
        labels={"whago.instance": "bench"}, host_config=client.create_host_config(network_mode="host"),
    )
    client.start(container["Id"])
    start = time.monotonic()
    for _ in range(500):
        client.inspect_container(container["Id"])
    elapsed = time.monotonic() - start
    client.remove_container(container["Id"], force=True)
    print(f"docker-py inspect-us {elapsed / 500 * 1e6:.0f}", flush=True)


per_call()
for mode, parallel in (("sequential", 1), ("concurrent", concurrency)):
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        list(pool.map(lambda index: cycle(mode, index), range(workers)))
    print(f"docker-py {mode} {time.monotonic() - start:.3f}", flush=True)
