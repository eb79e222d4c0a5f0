"""Serves the JupyterLab front end built in app/build with Debian's
jupyterlab_server (LabServerApp) on jupyter_server, as JupyterLab's
examples/app (v4.6.3) does. Server options come on the command line
(--ServerApp.port=..., --ServerApp.token=..., --ServerApp.root_dir=...).

GOPROC_LAB_STATE names a directory for the user's settings and workspaces,
so that a run leaves nothing behind in the tree.
"""
import json
import os

from jupyterlab_server import LabServerApp

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "build")
STATE = os.environ.get("GOPROC_LAB_STATE") or os.path.join(BUILD, "state")

# No configuration files from the machine: the test sets everything.
os.environ["JUPYTER_NO_CONFIG"] = "1"

with open(os.path.join(HERE, "..", "package.json")) as f:
    VERSION = json.load(f)["dependencies"]["@jupyterlab/application"].lstrip("^~")


def _jupyter_server_extension_points():
    return [{"module": __name__, "app": GoprocLab}]


class GoprocLab(LabServerApp):
    extension_url = "/lab"
    default_url = "/lab"
    name = __name__
    load_other_extensions = False
    app_name = "JupyterLab"
    app_version = VERSION
    app_settings_dir = os.path.join(HERE, "settings")
    schemas_dir = os.path.join(BUILD, "schemas")
    static_dir = BUILD
    templates_dir = os.path.join(HERE, "templates")
    themes_dir = os.path.join(BUILD, "themes")
    user_settings_dir = os.path.join(STATE, "user_settings")
    workspaces_dir = os.path.join(STATE, "workspaces")

    def initialize_settings(self):
        super().initialize_settings()
        # No terminals: terminado is not installed, and the tests need none.
        self.serverapp.web_app.settings["terminals_available"] = False


if __name__ == "__main__":
    GoprocLab.launch_instance()
