/*
 * cmd_config.c - `fleetboot config`: check the configuration file and print
 * the effective settings (every default filled in), so an admin sees what
 * the daemons will use. A bad file fails before printing anything.
 */
#include <string.h>

#include "cli.h"

static int run_config(struct cli_ctx *ctx, int argc, char **argv);

static struct cli_cmd cmd_config = {
    .name = "config",
    .usage = "  config                    check the configuration and print the effective "
             "settings\n",
    .run = run_config,
};
CLI_COMMAND(cmd_config)

static int run_config(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc > 1)
		return cli_usage(&cmd_config, "config takes no arguments");
	/* main() already loaded (and so checked) the file. */
	printf("; %s\n", ctx->cfg.path[0] ? ctx->cfg.path : "no configuration file: defaults");
	fb_config_print(&ctx->cfg, stdout);
	return CLI_OK;
}
