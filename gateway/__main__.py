"""``python -m gateway``: serve the gateway with settings from the environment."""

from gateway.main import serve

if __name__ == "__main__":
    serve()
