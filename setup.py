"""The one native part: verdict._scan, the history reader's fused parse-and-intern pass.

Optional: where no C compiler is found the build goes on without it and the verdict reads
histories with its Python readers (the same figures, slower; docs/verdict.md)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "verdict._scan",
            ["verdict/_scan.c"],
            optional=True,
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
        )
    ]
)
