#!/usr/bin/env bash
# Entrypoint for the locally built gatehouse-test/postgres image (see build.sh).
#
# Implements the contract of the official "postgres" Docker image, which is
# what testcontainers-go's postgres module expects:
#   POSTGRES_USER (default postgres), POSTGRES_PASSWORD (required unless
#   POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_DB (default: $POSTGRES_USER),
#   POSTGRES_INITDB_ARGS, POSTGRES_INITDB_WALDIR, POSTGRES_HOST_AUTH_METHOD,
#   PGDATA, the *_FILE variants of the POSTGRES_* secrets, and
#   /docker-entrypoint-initdb.d/{*.sh,*.sql,*.sql.gz,*.sql.xz,*.sql.zst}.
#
# On first boot the temporary (socket-only) server and the final server each
# log "database system is ready to accept connections" once.
set -Eeo pipefail

# file_env VAR [DEFAULT]: VAR may also be given as VAR_FILE (docker secrets).
file_env() {
	local var="$1" fileVar="${1}_FILE" def="${2:-}"
	if [ -n "${!var:-}" ] && [ -n "${!fileVar:-}" ]; then
		printf >&2 'error: both %s and %s are set (but are exclusive)\n' "$var" "$fileVar"
		exit 1
	fi
	local val="$def"
	if [ -n "${!var:-}" ]; then
		val="${!var}"
	elif [ -n "${!fileVar:-}" ]; then
		val="$(< "${!fileVar}")"
	fi
	export "$var"="$val"
	unset "$fileVar"
}

# True when the arguments ask postgres for information only (-C, --help, ...),
# in which case no initialisation must happen.
want_help() {
	local arg
	for arg; do
		case "$arg" in
			-'?' | --help | --describe-config | -V | --version) return 0 ;;
		esac
	done
	return 1
}

setup_env() {
	file_env POSTGRES_PASSWORD
	file_env POSTGRES_USER postgres
	file_env POSTGRES_DB "$POSTGRES_USER"
	file_env POSTGRES_INITDB_ARGS
	: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
	: "${PGDATA:=/var/lib/postgresql/data}"
	export PGDATA POSTGRES_HOST_AUTH_METHOD

	DATABASE_ALREADY_EXISTS=
	if [ -s "$PGDATA/PG_VERSION" ]; then
		DATABASE_ALREADY_EXISTS=true
	fi
}

# Create PGDATA and the socket directory; fix ownership when we are root.
create_directories() {
	local user
	user="$(id -u)"

	mkdir -p "$PGDATA"
	chmod 00700 "$PGDATA" 2>/dev/null || :

	mkdir -p /var/run/postgresql
	chmod 03777 /var/run/postgresql 2>/dev/null || :

	if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
		mkdir -p "$POSTGRES_INITDB_WALDIR"
		if [ "$user" = 0 ]; then
			find "$POSTGRES_INITDB_WALDIR" \! -user postgres -exec chown postgres:postgres '{}' +
		fi
		chmod 00700 "$POSTGRES_INITDB_WALDIR" 2>/dev/null || :
	fi

	if [ "$user" = 0 ]; then
		find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
		find /var/run/postgresql \! -user postgres -exec chown postgres:postgres '{}' +
	fi
}

verify_minimum_env() {
	if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
		cat >&2 <<-'EOE'
			Error: Database is uninitialized and superuser password is not specified.
			       You must specify POSTGRES_PASSWORD to a non-empty value for the
			       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

			       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
			       connections without a password. This is *not* recommended.
		EOE
		exit 1
	fi
	if [ "$POSTGRES_HOST_AUTH_METHOD" = trust ]; then
		printf >&2 'WARNING: POSTGRES_HOST_AUTH_METHOD=trust: all connections are accepted without a password.\n'
	fi
}

init_database_dir() {
	# --no-sync: a test database does not need the fresh cluster flushed to
	# disk (saves about a second per container); not in the official image.
	local args=(
		--username="$POSTGRES_USER"
		--no-sync
		--auth-local=trust
		--auth-host="$POSTGRES_HOST_AUTH_METHOD"
	)
	if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
		args+=(--waldir="$POSTGRES_INITDB_WALDIR")
	fi
	# POSTGRES_INITDB_ARGS is a shell-quoted string (as in the official
	# image), hence eval. --pwfile refuses an empty file, hence the newline.
	eval 'initdb "${args[@]}" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") '"$POSTGRES_INITDB_ARGS"

	{
		printf '\n# added by docker-entrypoint.sh\n'
		printf "listen_addresses = '*'\n"
	} >> "$PGDATA/postgresql.conf"
	{
		printf '\n# added by docker-entrypoint.sh\n'
		printf 'host all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD"
	} >> "$PGDATA/pg_hba.conf"
}

# psql against the temporary server (unix socket, local trust).
docker_process_sql() {
	local cmd=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
	if [ -n "$POSTGRES_DB" ]; then
		cmd+=(--dbname "$POSTGRES_DB")
	fi
	PGHOST='' PGHOSTADDR='' "${cmd[@]}" "$@"
}

setup_db() {
	local exists db="$POSTGRES_DB"
	exists="$(POSTGRES_DB='' docker_process_sql --dbname postgres --set db="$db" --tuples-only <<-'EOSQL'
		SELECT 1 FROM pg_database WHERE datname = :'db' ;
	EOSQL
	)"
	if [ -z "$exists" ]; then
		POSTGRES_DB='' docker_process_sql --dbname postgres --set db="$db" <<-'EOSQL'
			CREATE DATABASE :"db" ;
		EOSQL
	fi
}

process_init_files() {
	# Sourced scripts written for the official image may use "${psql[@]}".
	# shellcheck disable=SC2034
	local psql=(docker_process_sql)
	local f
	for f; do
		case "$f" in
			*.sh)
				if [ -x "$f" ]; then
					printf '%s: running %s\n' "$0" "$f"
					"$f"
				else
					printf '%s: sourcing %s\n' "$0" "$f"
					# shellcheck disable=SC1090
					. "$f"
				fi
				;;
			*.sql) printf '%s: running %s\n' "$0" "$f"; docker_process_sql -f "$f" ;;
			*.sql.gz) printf '%s: running %s\n' "$0" "$f"; gunzip -c "$f" | docker_process_sql ;;
			*.sql.xz) printf '%s: running %s\n' "$0" "$f"; xzcat "$f" | docker_process_sql ;;
			*.sql.zst) printf '%s: running %s\n' "$0" "$f"; zstd -dc "$f" | docker_process_sql ;;
			*) printf '%s: ignoring %s\n' "$0" "$f" ;;
		esac
	done
}

# The temporary server only listens on the unix socket, so nothing outside the
# container can connect before initialisation has finished.
temp_server_start() {
	if [ "$1" = postgres ]; then
		shift
	fi
	set -- "$@" -c listen_addresses='' -p "${PGPORT:-5432}"
	PGUSER="${PGUSER:-$POSTGRES_USER}" \
		pg_ctl -D "$PGDATA" -o "$(printf '%q ' "$@")" -w start
}

temp_server_stop() {
	PGUSER="${PGUSER:-$POSTGRES_USER}" \
		pg_ctl -D "$PGDATA" -m fast -w stop
}

main() {
	# "docker run IMAGE -c fsync=off" means "postgres -c fsync=off".
	if [ "${1:0:1}" = '-' ]; then
		set -- postgres "$@"
	fi

	if [ "$1" = postgres ] && ! want_help "$@"; then
		setup_env
		create_directories

		if [ "$(id -u)" = 0 ]; then
			# Re-run this script as the postgres OS user.
			HOME="$(getent passwd postgres | cut -d: -f6)"
			export HOME
			exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
		fi

		if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
			verify_minimum_env
			# Fail early (before initdb) if the init scripts are unreadable.
			if [ -d /docker-entrypoint-initdb.d ]; then
				ls /docker-entrypoint-initdb.d/ > /dev/null
			fi

			init_database_dir

			export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
			temp_server_start "$@"
			setup_db
			shopt -s nullglob
			process_init_files /docker-entrypoint-initdb.d/*
			shopt -u nullglob
			temp_server_stop
			unset PGPASSWORD

			printf '\nPostgreSQL init process complete; ready for start up.\n\n'
		else
			printf '\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n'
		fi
	fi

	exec "$@"
}

main "$@"
