from sandbox.demo import entrypoint

entrypoint()
