"""The system as separate processes a test can kill and restart one by one (crash tests).
Same commands as `flask up` (config/devstack.py), so what is tested is what runs."""
import os
import signal
import subprocess
from pathlib import Path

from config.devstack import commands
from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


class Processes:
    def __init__(self, env: dict, log_dir: Path):
        self.env, self.log_dir = env, log_dir
        self.argv = commands(Settings(port=int(env['PORT']), sandbox_port=int(env['SANDBOX_PORT']),
                                      data_dir=env['DATA_DIR'], secret_key='x', admin_token='x'))
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str) -> None:
        log = open(self.log_dir / f'{name}.log', 'ab')
        self.procs[name] = subprocess.Popen(self.argv[name], cwd=ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self, name: str) -> None:
        """SIGKILL: no cleanup, like a machine losing power under the process."""
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for name in list(self.procs):
            proc = self.procs.pop(name)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
