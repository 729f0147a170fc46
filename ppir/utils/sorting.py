"""Natural order for file names, as people (and the official scripts' ``natsorted``) sort them."""
import re


def natural_key(name):
    """Sort key that orders digit runs by value and ignores case: 'img2' < 'img10', 'A1' < 'a2'."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", str(name))]
