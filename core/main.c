/* main.c - the agentflow program. Everything lives in the core library. */
#include "cli.h"

int main(int argc, char **argv)
{
	return af_cli_main(argc, argv);
}
