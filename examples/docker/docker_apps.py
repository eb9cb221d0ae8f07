"""The seeds' container example (0.5.0 guide, section 3.12): two apps, each pinned to a site
whose IPython Parallel engines run inside that app's image (app1_v0.1, app2_v0.1).

    python docker_apps.py            # docker (DOCKER_HOST as usual)
    python docker_apps.py podman     # the same with podman

Build the images first (see README.md). Each site starts one block: one container with one
engine in it, on the host network, so it reaches the controller on 127.0.0.1.
"""
import sys

from parsl import App, DataFlowKernel


def site(name, image, engine):
    return {
        "site": name,
        "auth": {"channel": None},
        "execution": {
            "executor": "ipp",
            "container": {"type": engine, "image": image},
            "provider": "local",
            "block": {"initBlocks": 1, "maxBlocks": 1, "taskBlocks": 1},
        },
    }


def config(engine="docker"):
    return {
        "sites": [site("pool_app1", "app1_v0.1", engine), site("pool_app2", "app2_v0.1", engine)],
        "globals": {"lazyErrors": True},
    }


def main(engine="docker"):
    dfk = DataFlowKernel(config=config(engine))

    @App("python", dfk, sites=["pool_app1"], cache=True)
    def app_1(data):
        import app1

        return app1.predict(data)

    @App("python", dfk, sites=["pool_app2"], cache=True)
    def app_2(data):
        import app2

        return app2.predict(data)

    try:
        x = app_1([1, 2, 3])
        y = app_2(x)
        print("app_1:", x.result(timeout=120))
        print("app_2:", y.result(timeout=120))
    finally:
        dfk.cleanup()


if __name__ == "__main__":
    main(*sys.argv[1:])
