"""Rank helpers for the engine: the names of ``ppir.utils.distributed`` (their one home)."""
from ..utils.distributed import (  # noqa: F401 (re-exported)
    any_rank, barrier, broadcast_from_main, gather_from_all_ranks, init_distributed, is_main, launched_world_size,
    rank, world_size,
)
