/* backup.h - `lbipamd backup`: an online copy of a live database (SQLite's backup API, through
 * store_backup), safe while another lbipamd writes to it. */
#ifndef LBIPAM_BACKUP_H
#define LBIPAM_BACKUP_H

/* argv[0] is "backup". Returns the exit status: 0 done, 1 failed, 2 bad flags. */
int backup_main(int argc, char **argv);

#endif
