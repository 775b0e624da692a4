# The two commands of the README: `make run` and `make test`. Only Python 3.11+ and make needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# These are the developer's commands: debug on (the settings default it to off, so that a
# server started with a bare environment never shows debug pages). An environment that
# sets DJANGO_DEBUG keeps its value.
export DJANGO_DEBUG ?= 1

.PHONY: run test lint format migrate demo worker beat clean translations messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The .po catalogues are the source; the .mo files Django reads are built from them.
translations: $(VENV)/.installed
	$(BIN)/python manage.py compile_translations

# For developers with GNU gettext: collect new strings into the catalogues.
messages: $(VENV)/.installed
	$(BIN)/python manage.py makemessages -l ru -l kk -l en --no-location \
		--ignore=.venv --ignore=tests --ignore=bench --ignore=staticfiles --ignore=data

# Links in emails (verification, decisions, answers, password reset) start with
# CIVIC_SITE_URL: point it at the address this server answers on, unless it is set.
run: export CIVIC_SITE_URL ?= http://$(HOST):$(PORT)
run: translations
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.installed-dev translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

worker: $(VENV)/.installed
	$(BIN)/celery -A civic worker --loglevel INFO

beat: $(VENV)/.installed
	$(BIN)/celery -A civic beat --loglevel INFO

clean:
	rm -rf $(VENV) data staticfiles .pytest_cache .ruff_cache
