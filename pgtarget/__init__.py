"""A second store family hothot did not write: PostgreSQL clusters in a pglogical mesh.

`pgtarget.clusters` makes and stops local clusters (one per region, under libfaketime so their
clocks can be skewed), `pgtarget.mesh` joins any clusters into a full pglogical mesh and waits
for it, `pgtarget.control` is what the fault injectors do to it (SQL on subscriptions, the
clock file, pg_ctl). Like `globaltable`, it imports nothing else of hothot's.
"""
