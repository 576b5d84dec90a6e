"""Build hook for the one optional C extension; everything else is in pyproject.toml.

``bbnb.results._speedups`` makes ``to_frame`` about twice as fast.  It is optional: where
no C compiler is available the build skips it and bbnb uses its pure-Python path.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "bbnb.results._speedups",
            ["bbnb/results/_speedups.c"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    ]
)
