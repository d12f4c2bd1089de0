"""Where the latest simulation's report is kept for the console: `simulation.json` in the instance dir."""
import json
from pathlib import Path

FILE = 'simulation.json'


def save(data_dir: str, report: dict) -> Path:
    path = Path(data_dir) / FILE
    tmp = path.with_suffix('.tmp')
    tmp.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding='utf-8')
    tmp.replace(path)  # the console never reads half a file
    return path


def load(data_dir: str) -> dict | None:
    """The latest report, or None when no simulation has run here (or its file is unreadable)."""
    try:
        report = json.loads((Path(data_dir) / FILE).read_text(encoding='utf-8'))
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None
