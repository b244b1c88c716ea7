/* group_json.c - a group as JSON, the one shape `fleetboot group ... --json`
 * and /api/v1/groups both give (the CLI's field names). */
#include <jansson.h>

#include "db.h"

json_t *fb_group_json(const struct fb_group *g)
{
	json_t *j =
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:I}", "name", g->name, "image",
	              g->image, "mode", g->mode, "protocol", g->protocol, "loader", g->loader,
	              "secure_boot", g->secure_boot, "menu_default", g->menu_default, "machines",
	              g->machines, "created", (json_int_t)g->created);
	if (j)
		json_object_set_new(j, "menu_timeout",
		                    g->menu_timeout >= 0 ? json_integer(g->menu_timeout)
		                                         : json_null());
	return j;
}
