# Container internals in C: the labs, their grader and its proof.
#
#   make deps       install the Debian packages needed (as root), or print the line
#   make grade      grade SUBMISSION (default: the reference solutions) in the VM
#   make test       the whole suite: harness tests, then every lab proven
#   make mutants    the generated mutants of every lab against the baselines
#                   (SAMPLE=N: a fixed sample of N per lab, as CI runs it)
#   make docs       the Doxygen site (handouts as pages, headers as API)
#   make bench      timings: VM ready, round trip, a lab, a submission
#   make student-bundle   what students get, without solutions, mutants or hidden cases

PYTHON     = /usr/bin/python3
MOULINETTE = bin/moulinette
SUBMISSION ?= solutions
LABS       ?=
JOBS       ?= 2
SAMPLE     ?=
labs_opt   = $(if $(LABS),--labs $(LABS))
sample_opt = $(if $(SAMPLE),--sample $(SAMPLE))

.PHONY: deps grade test unit prove mutants docs bench student-bundle clean

deps:
	@bin/deps

grade: deps
	$(MOULINETTE) grade $(SUBMISSION) $(labs_opt) --report reports/grade

test: deps unit prove

unit:
	$(PYTHON) -m pytest -q harness/tests

prove:
	$(MOULINETTE) prove $(labs_opt) --jobs $(JOBS)

mutants: deps
	$(MOULINETTE) mutate $(labs_opt) --jobs $(JOBS) $(sample_opt)

docs: deps
	doxygen docs/Doxyfile && echo "docs: build/docs/html/index.html"

bench: deps
	$(PYTHON) bench/bench.py

student-bundle: deps
	$(MOULINETTE) bundle build/student-bundle

clean:
	rm -rf build reports
