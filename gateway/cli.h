/**
 * @file cli.h  wtpfd's one-shot commands: checking a configuration, adding
 * and removing digest users, minting demo tokens. Each returns the process
 * exit code and prints what went wrong on stderr.
 */
#ifndef WTPF_CLI_H
#define WTPF_CLI_H

/**
 * Loads the token issuer's key file @p path as the edge will, and frees it
 * (conf_key_check_h: conf_load_keys() reports what fails at its line).
 * Returns 0, or an errno code with @p *why set.
 */
int cli_key_check(const char *path, const char **why);

/** Validates @p path, including the tenants' key files. 0 when valid. */
int cli_check_config(const char *path);

/** `user add -c FILE TENANT USER [PASSWORD|-]` and `user del -c FILE TENANT USER`. */
int cli_user(int argc, char **argv);

/** `token -c FILE -t TENANT -s SUBJECT [-i IMPU] [-l TTL]`: an HS256 token. */
int cli_token(int argc, char **argv);

#endif
