/* token_cli.h - `lbipamd token create|list|revoke`: bearer tokens managed on the database
 * file directly (through the store, as a second writer beside a running lbipamd is safe). */
#ifndef LBIPAM_TOKEN_CLI_H
#define LBIPAM_TOKEN_CLI_H

/* argv[0] is "token". Returns the exit status: 0 done, 1 failed, 2 bad usage. */
int token_cli_main(int argc, char **argv);

#endif
