# bragg - Monte Carlo transport of ion beams through matter.
#
#   make            build bin/bragg                 make test    unit, physics and CLI tests
#   make run        build, then run a demo beam     make check   the tests under ASan + UBSan,
#                                                                the fuzz targets briefly and
#                                                                a clang build of it all
#   make tsan       the threaded tests under ThreadSanitizer (VARIANT=tsan)
#   make bench      throughput and profile tables   make deps    install missing Debian packages
#   make docs       the example figures in docs/img (README)
#   make clean
#
# Options: CC=clang, CUDA=auto|0|1 (auto: on when nvcc is found), OPT=-O2, ARCH=-march=native,
#          MPI=auto|0|1 (auto: bin/bragg-mpi too when mpicc is found),
#          MCPL=auto|0|1 (auto: phase-space files when libmcpl's mcpl.h is found).

ifeq ($(origin CC),default)
CC := gcc
endif
OPT  ?= -O2
ARCH ?= -march=native
CUDA ?= auto
MPI  ?= auto
MCPL ?= auto

VERSION := 0.1.0
GIT_REV := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

# nvcc on PATH, else the CUDA toolkit's default install folder.
NVCC := $(shell command -v nvcc 2>/dev/null || { test -x /usr/local/cuda/bin/nvcc && echo /usr/local/cuda/bin/nvcc; })
$(if $(filter-out auto 0 1,$(CUDA)),$(error CUDA must be auto, 0 or 1, not '$(CUDA)'))
$(if $(filter-out auto 0 1,$(MPI)),$(error MPI must be auto, 0 or 1, not '$(MPI)'))
$(if $(filter-out auto 0 1,$(MCPL)),$(error MCPL must be auto, 0 or 1, not '$(MCPL)'))
ifeq ($(CUDA),auto)
  CUDA_ON := $(if $(NVCC),1,0)
else
  CUDA_ON := $(CUDA)
endif
ifeq ($(CUDA_ON),1)
  ifeq ($(NVCC),)
    $(error CUDA=1 but nvcc was found neither on PATH nor in /usr/local/cuda/bin)
  endif
  # Where the static CUDA runtime lives differs between installs (toolkit: lib64 or
  # targets/<arch>/lib; Debian's package, whose nvcc is /usr/bin/nvcc: the multiarch folder).
  # nvcc says where it links from; the usual folders are the fallback. An nvcc without its
  # runtime library cannot link bragg: with CUDA=auto that means no CUDA backend (said once),
  # with CUDA=1 it is an error. (tests/unit/test_cli.c checks both with a stand-in nvcc.)
  CUDA_HOME    := $(patsubst %/bin/nvcc,%,$(NVCC))
  CUDA_LIBDIRS := $(filter-out %/stubs,$(patsubst -L%,%,$(subst ",,$(shell $(NVCC) --dryrun -x cu -c /dev/null -o /dev/null 2>&1 | sed -n 's/^\#\$$ LIBRARIES=//p')))) \
                  $(CUDA_HOME)/lib64 $(wildcard $(CUDA_HOME)/targets/*/lib) \
                  $(if $(filter /usr,$(CUDA_HOME)),$(wildcard /usr/lib/*-linux-gnu))
  CUDA_LIBDIR  := $(firstword $(patsubst %/libcudart_static.a,%,$(wildcard $(addsuffix /libcudart_static.a,$(CUDA_LIBDIRS)))))
  ifeq ($(CUDA_LIBDIR),)
    ifeq ($(CUDA),1)
      $(error CUDA=1 but libcudart_static.a is not beside $(NVCC) (looked in: $(CUDA_LIBDIRS)))
    endif
    $(info note: $(NVCC) found but not libcudart_static.a; building without the CUDA backend)
    CUDA_ON := 0
  endif
endif

# MPI (bin/bragg-mpi): mpicc only tells the flags, so that any CC (gcc, clang, the sanitizer
# build) compiles the two MPI files like the rest.
MPICC := $(shell command -v mpicc 2>/dev/null)
ifeq ($(MPI),auto)
  MPI_ON := $(if $(MPICC),1,0)
else
  MPI_ON := $(MPI)
endif
ifeq ($(MPI_ON),1)
  ifeq ($(MPICC),)
    $(error MPI=1 but mpicc was not found (Debian: apt-get install libopenmpi-dev openmpi-bin))
  endif
  MPI_CFLAGS := $(shell $(MPICC) --showme:compile)
  MPI_LIBS   := $(shell $(MPICC) --showme:link)
endif

# Phase-space files (bragg run --phase-space) go through libmcpl (Debian: libmcpl-dev), found by
# its header; without it bragg builds and says, when asked for one, that it cannot write it.
MCPL_H := $(firstword $(wildcard /usr/include/mcpl.h /usr/local/include/mcpl.h))
ifeq ($(MCPL),auto)
  MCPL_ON := $(if $(MCPL_H),1,0)
else
  MCPL_ON := $(MCPL)
endif
ifeq ($(MCPL_ON),1)
  ifeq ($(MCPL_H),)
    $(error MCPL=1 but mcpl.h was not found (Debian: apt-get install libmcpl-dev))
  endif
  MCPL_CFLAGS := -DBRAGG_MCPL
  MCPL_LIBS   := -lmcpl
endif

# cairo draws the figures, libpng writes them (with text chunks); pkg-config knows where their
# headers live, the fallback is where Debian puts them.
PLOT_CFLAGS := $(shell pkg-config --cflags cairo libpng 2>/dev/null || echo -I/usr/include/cairo)
PLOT_LIBS   := $(shell pkg-config --libs cairo libpng 2>/dev/null || echo -lcairo -lpng)
# The tests parse the SVG figures with libxml2 (an XML parser that is not the writer).
XML_CFLAGS := $(shell pkg-config --cflags libxml-2.0 2>/dev/null || echo -I/usr/include/libxml2)
XML_LIBS   := $(shell pkg-config --libs libxml-2.0 2>/dev/null || echo -lxml2)
# The workbench (ui/) draws with ncursesw (wide characters: braille and box drawing).
CURSES_CFLAGS := $(shell pkg-config --cflags ncursesw 2>/dev/null)
CURSES_LIBS   := $(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw)

WARN     := -Wall -Wextra -Werror
SRC_DIRS := src/engine src/output src/figures src/cli src/mpi
CPPFLAGS := -Iphysics $(addprefix -I,$(SRC_DIRS)) -Iui -Itests/unit -D_POSIX_C_SOURCE=200809L \
            -DBRAGG_VERSION='"$(VERSION)"' -DBRAGG_GIT_REV='"$(GIT_REV)"' \
            -DBRAGG_ASSET_DIR='"$(CURDIR)/assets"' $(PLOT_CFLAGS) $(CURSES_CFLAGS) $(MCPL_CFLAGS)
# -ffp-contract=off: no fused multiply-adds, so that every operation is rounded as written, as
# nvcc -fmad=false does on the GPU (gcc's -std=c11 already implies it; clang's default fuses).
# The same seed then gives the same bits on the CPU and the GPU.
CFLAGS   := -std=c11 $(OPT) $(ARCH) $(WARN) -ffp-contract=off -fopenmp -g $(EXTRA_CFLAGS)
LDLIBS   := -fopenmp $(PLOT_LIBS) $(CURSES_LIBS) $(MCPL_LIBS) -lcjson -lm -lpthread

# Variants: the normal build in build/release, the sanitizer builds in build/asan (address and
# undefined behaviour, `make check`) and build/tsan (data races, `make tsan`). Any other name
# (VARIANT=clang) is a plain build in its own folder.
VARIANT  ?= release
ifeq ($(VARIANT),asan)
  CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
  LDLIBS += -fsanitize=address,undefined
endif
ifeq ($(VARIANT),tsan)
  CFLAGS += -O1 -fsanitize=thread -fno-omit-frame-pointer
  LDLIBS += -fsanitize=thread
endif
B := build/$(VARIANT)

LIB_SRC  := $(wildcard physics/*.c) $(filter-out src/cli/main.c src/mpi/mpi_%.c,$(wildcard src/*/*.c)) \
            $(wildcard ui/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)

# The CUDA backend: cuda/*.cu compiled by nvcc into the same library, with the C runtime of
# CUDA linked statically so that bin/bragg runs wherever the driver is, without LD_LIBRARY_PATH.
# Machine code for sm_80 (A100) and sm_90 (H100, H200), and PTX for later GPUs. -fmad=false:
# no fused multiply-adds, as in the C build (-std=c11 does not contract either), so that the
# GPU rounds every operation as the CPU does and scores the same integers.
ifeq ($(CUDA_ON),1)
  CPPFLAGS  += -DBRAGG_CUDA -Icuda
  NVCCFLAGS := -O3 -std=c++17 -fmad=false -Iphysics $(addprefix -I,$(SRC_DIRS)) -Icuda -D_POSIX_C_SOURCE=200809L \
               -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 \
               -gencode arch=compute_90,code=compute_90 -Xcompiler -Wall,-Wextra -Werror all-warnings
  LIB_OBJ   += $(patsubst %.cu,$(B)/%.o,$(wildcard cuda/*.cu))
  LDLIBS    += -L$(CUDA_LIBDIR) -lcudart_static -ldl -lrt -lstdc++
endif
TEST_SRC := $(wildcard tests/unit/*.c)
TEST_OBJ := $(TEST_SRC:%.c=$(B)/%.o)
BIN      := $(if $(filter release,$(VARIANT)),bin/bragg,$(B)/bragg)
MPI_BIN  := $(if $(filter 1,$(MPI_ON)),$(if $(filter release,$(VARIANT)),bin/bragg-mpi,$(B)/bragg-mpi))
MPI_OBJ  := $(B)/src/mpi/mpi_main.o $(B)/src/mpi/mpi_run.o

.PHONY: all run test check tsan fuzz bench deps clean unit-tests docs
all: $(BIN) $(MPI_BIN)

# The objects that write the git revision (figures' and reports' provenance, the NRRD and MCPL
# headers, checkpoints) are rebuilt when it changes: a stamp file holds the revision they were
# built with. Without it a figure made after a commit named the commit before. Every source that
# names BRAGG_GIT_REV is found here, so a new writer cannot be left off a hand-kept list (the
# NRRD and MCPL writers once were).
REV_STAMP := $(B)/git-rev
$(shell mkdir -p $(B) && { [ "$$(cat $(REV_STAMP) 2>/dev/null)" = "$(GIT_REV)" ] || echo "$(GIT_REV)" > $(REV_STAMP); })
REV_USERS := $(patsubst %.c,$(B)/%.o,\
                $(shell grep -rl --include='*.c' BRAGG_GIT_REV src ui physics 2>/dev/null))
$(REV_USERS): $(REV_STAMP)

# V=1 shows the full commands.
Q := $(if $(V),,@)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/%.o: %.cu
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  NVCC    $<")
	$(Q)$(NVCC) $(NVCCFLAGS) -MMD -MP -c $< -o $@

$(B)/libbragg.a: $(LIB_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BIN): $(B)/src/cli/main.o $(B)/libbragg.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(MPI_OBJ): CPPFLAGS += $(MPI_CFLAGS)

$(MPI_BIN): $(MPI_OBJ) $(B)/libbragg.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) $(MPI_LIBS)

$(TEST_OBJ): CPPFLAGS += $(XML_CFLAGS)

$(B)/unit_tests: $(TEST_OBJ) $(B)/libbragg.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) $(XML_LIBS) -lcriterion

deps:
	@scripts/deps.sh test

# On a terminal `make run` opens the workbench (the program's front door); without one (CI,
# scripts, a pipe) it shows the engine at work headless on the classic case instead: a C-12
# beam at 400 MeV/u stopping in water.
run:
	@scripts/deps.sh build
	@$(MAKE) --no-print-directory all
	@if [ -t 0 ] && [ -t 1 ]; then set -x; ./bin/bragg; \
	 else set -x; ./bin/bragg run --ion C-12 --energy 400 --material water -n 20000; fi

# The CLI tests inside the unit runner call the binary named by BRAGG_BIN. One test at a time
# (--jobs 1): the transport tests use every core themselves, and the profiling test measures
# wall time, which tests running beside it would steal.
unit-tests: $(BIN) $(MPI_BIN) $(B)/unit_tests
	BRAGG_BIN=$(CURDIR)/$(BIN) BRAGG_MPI_BIN=$(if $(MPI_BIN),$(CURDIR)/$(MPI_BIN)) $(B)/unit_tests --jobs 1 $(TEST_ARGS)

test:
	@scripts/deps.sh test
	@scripts/check_layers.sh
	@$(MAKE) --no-print-directory unit-tests

check:
	@scripts/deps.sh check
	@$(MAKE) --no-print-directory VARIANT=asan unit-tests \
	    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp
	@$(MAKE) --no-print-directory fuzz
	@# Both compilers, -Werror, the tests included: clang warns where gcc does not.
	@$(MAKE) --no-print-directory CC=clang VARIANT=clang all build/clang/unit_tests

# Fuzzing: libFuzzer targets (clang's -fsanitize=fuzzer, with ASan and UBSan) for the asset
# readers, what users type (options, settings, numbers) and bragg plot's JSON reader, each run
# for FUZZ_SECONDS on its corpus in tests/fuzz/corpus/ (read only: new inputs go to
# build/fuzz/corpus-*, a crash to build/fuzz/crash-*, which reproduces with
# `build/fuzz/fuzz_NAME FILE`). Only the sources the targets use are built, without OpenMP.
FUZZ_CC      := clang
FUZZ_DIR     := build/fuzz
FUZZ_SECONDS ?= 8
FUZZ_TARGETS := assets options plot_json
FUZZ_CFLAGS  := -std=c11 -O1 -g $(WARN) -fno-omit-frame-pointer \
                -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_SRC     := $(wildcard physics/*.c) src/engine/config.c src/engine/run_file.c \
                src/output/atomic_file.c src/output/depth_unit.c src/output/dose_map.c \
                $(wildcard src/figures/*.c) src/cli/options.c ui/settings.c
FUZZ_OBJ     := $(FUZZ_SRC:%.c=$(FUZZ_DIR)/%.o)
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
# Kept between runs (make would delete them as intermediates of the pattern rules).
.SECONDARY: $(FUZZ_OBJ) $(FUZZ_TARGETS:%=$(FUZZ_DIR)/tests/fuzz/fuzz_%.o)

$(FUZZ_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(CPPFLAGS) -Itests/fuzz $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP \
	    -c $< -o $@

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/tests/fuzz/fuzz_%.o $(FUZZ_OBJ)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ -o $@ $(PLOT_LIBS) -lcjson -lm

fuzz: $(FUZZ_BINS)
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_DIR)/corpus-$$t; \
	    echo "  FUZZ    $$t ($(FUZZ_SECONDS) s)"; \
	    ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	    UBSAN_OPTIONS=print_stacktrace=1 $(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_DIR)/crash-$$t- $(FUZZ_DIR)/corpus-$$t tests/fuzz/corpus/$$t \
	        > $(FUZZ_DIR)/$$t.log 2>&1 \
	    || { tail -n 60 $(FUZZ_DIR)/$$t.log; exit 1; }; \
	    grep -h "stat::number_of_executed_units" $(FUZZ_DIR)/$$t.log | sed 's/^/          /'; \
	done

# ThreadSanitizer on the threads of a run: the engine thread, its OpenMP workers and the thread
# that polls, pauses and cancels it (a command's main thread, the workbench's UI thread).
# Criterion's runner cannot itself run under TSan (its shared arena fails to map, Criterion
# issue 274), so the release runner drives the TSan-built binary through the command-line,
# workbench and issue-19 tests (runs polled, cancelled by signals, resized and exported in the
# workbench); a race report makes that binary exit 66, which fails the test. TSan makes a run
# 5-15 times slower: BRAGG_TEST_TIME_SCALE stretches the tests' waits. tests/tsan.supp says
# what is suppressed and why.
# The event, simd and map tests named here drive those backends' threads through the CLI.
TSAN_TESTS := @(cli/*|tui/*|robust/*|event/cli*|simd/cli*|map/mcpl*)
tsan:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory VARIANT=tsan all
	@$(MAKE) --no-print-directory build/release/unit_tests
	BRAGG_BIN=$(CURDIR)/build/tsan/bragg BRAGG_TEST_TIME_SCALE=10 BRAGG_TEST_TSAN=1 \
	    TSAN_OPTIONS="suppressions=$(CURDIR)/tests/tsan.supp exitcode=66 history_size=7" \
	    build/release/unit_tests --jobs 1 --filter '$(TSAN_TESTS)' $(TEST_ARGS)

# The yardstick kernel (scripts/floor.c) is built as issue 14 measured it, with plain -O2 and
# whatever -march the compiler defaults to, and runs beside the C-12 cases.
bench: $(BIN) $(B)/floor
	./$(BIN) bench --component --floor $(B)/floor

$(B)/floor: scripts/floor.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -O2 -fopenmp $< -lm -o $@

# The README's example figures. The runs' JSON stays in build/docs; only the PNGs are kept.
# Protons of 206.6 MeV have the CSDA range of C-12 at 400 MeV/u in water (27.4 cm), so the
# overlay compares peaks at the same depth. The carbon run is scored to 36 cm, where the GSI
# measurements (assets/measurements/) end.
DOCS := build/docs
MEAS := assets/measurements/haettner-2013-c12-400-water
docs: $(BIN)
	@mkdir -p $(DOCS) docs/img
	./$(BIN) run --ion C-12 --energy 400 --material water -n 100000 -q --depth 36 --json $(DOCS)/c12.json
	./$(BIN) run --ion p --energy 206.6 --material water -n 100000 -q --json $(DOCS)/p.json
	./$(BIN) plot $(DOCS)/c12.json --png docs/img/c12-depth-dose.png
	./$(BIN) plot $(DOCS)/p.json $(DOCS)/c12.json --norm entrance --png docs/img/proton-vs-carbon.png
	./$(BIN) plot $(DOCS)/c12.json --kind let --png docs/img/c12-let.png
	./$(BIN) plot $(DOCS)/p.json $(DOCS)/c12.json --kind lateral --png docs/img/lateral.png
	./$(BIN) bench --scale 0.25 --json $(DOCS)/bench.json > /dev/null
	./$(BIN) plot $(DOCS)/bench.json --png docs/img/bench-race.png
	./$(BIN) plot $(DOCS)/bench.json --kind profile --png docs/img/profile.png
	./$(BIN) run --ion C-12 --energy 400 --material water -n 100000 -q --no-nuclear \
	    --json $(DOCS)/c12-no-nuclear.json
	./$(BIN) plot $(DOCS)/c12.json $(DOCS)/c12-no-nuclear.json --norm entrance \
	    --png docs/img/c12-nuclear-vs-none.png
	./$(BIN) plot $(DOCS)/c12.json --kind charge --png docs/img/c12-dose-by-charge.png
	./$(BIN) plot $(DOCS)/c12.json --measured $(MEAS).tsv --png docs/img/c12-vs-gsi.png
	./$(BIN) plot $(DOCS)/c12.json --kind yields --log --measured $(MEAS)-yields.tsv \
	    --png docs/img/c12-yields-vs-gsi.png
	./$(BIN) run --ion C-12 --energy 290 --slab water:5 --slab bone:2 --slab water:inf -n 100000 -q \
	    --json $(DOCS)/c12-bone.json
	./$(BIN) plot $(DOCS)/c12-bone.json --kind charge --png docs/img/c12-bone-slab-by-charge.png
	./$(BIN) tables --ion C-12 --material water --emin 1 --emax 500 --points 200 \
	    --png docs/img/c12-water-tables.png
	./$(BIN) run --ion C-12 --energy 290 --material water -n 100000 -q --bio mkm \
	    --json $(DOCS)/c12-bio.json
	./$(BIN) plot $(DOCS)/c12-bio.json --kind bio --png docs/img/c12-bio.png
	./$(BIN) sobp --ion C-12 --material water --from 10 --to 15 -n 10000 --biological mkm \
	    --dose 3 -q --json $(DOCS)/c12-sobp-bio.json --png docs/img/c12-sobp-bio.png
	./$(BIN) run --ion p --energy 150 --material water -n 100000 -q --map $(DOCS)/p150.nrrd \
	    --json $(DOCS)/p150-map.json
	./$(BIN) plot $(DOCS)/p150-map.json --kind map --log --png docs/img/p150-dose-map.png

clean:
	rm -rf build bin

-include $(LIB_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(B)/src/cli/main.d $(MPI_OBJ:.o=.d) \
         $(FUZZ_OBJ:.o=.d) $(FUZZ_TARGETS:%=$(FUZZ_DIR)/tests/fuzz/fuzz_%.d)
