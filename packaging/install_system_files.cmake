# Runs at install time (packaging/CMakeLists.txt), where CMAKE_INSTALL_PREFIX is the prefix
# this install really uses. Given by the caller: HEARTH_SOURCE_DIR, HEARTH_BINDIR and
# HEARTH_DATAROOTDIR (GNUInstallDirs' values, usually "bin" and "share"), HEARTH_BINARY_DIR
# (where files are prepared before they are installed).
#
#   prefix      config                      unit, sysusers.d, tmpfiles.d
#   /usr        /etc/hearth                 /usr/lib/...         (the Debian package)
#   /usr/local  /usr/local/etc/hearth       /usr/local/lib/...   (cmake --install's default)
#   /opt/X      /etc/opt/X/hearth           /opt/X/lib/...       (systemd does not look there)
#
# The unit's ExecStart and --config follow the prefix. An existing hearth.conf is never
# overwritten: the shipped one is put beside it as hearth.conf.dist. The config holds the
# TURN secrets, so it is installed 0640; the tmpfiles entry makes it root:hearth.

string(REGEX REPLACE "/+$" "" hearth_prefix "${CMAKE_INSTALL_PREFIX}")
if(hearth_prefix STREQUAL "" OR hearth_prefix STREQUAL "/usr")
    set(hearth_prefix "/usr")
    set(hearth_sysconfdir "/etc")
elseif(hearth_prefix MATCHES "^/opt/")
    set(hearth_sysconfdir "/etc${hearth_prefix}")
else()
    set(hearth_sysconfdir "${hearth_prefix}/etc")
endif()

function(hearth_full_path out relative)
    if(IS_ABSOLUTE "${relative}")
        set(${out} "${relative}" PARENT_SCOPE)
    else()
        set(${out} "${hearth_prefix}/${relative}" PARENT_SCOPE)
    endif()
endfunction()
hearth_full_path(hearth_bindir "${HEARTH_BINDIR}")
hearth_full_path(hearth_datadir "${HEARTH_DATAROOTDIR}")
set(hearth_confdir "${hearth_sysconfdir}/hearth")
# One staging folder per destination, so that two installs at once do not share files.
string(MD5 hearth_destination "$ENV{DESTDIR}${hearth_prefix}")
set(hearth_staging "${HEARTH_BINARY_DIR}/install-staging/${hearth_destination}")
set(hearth_readable OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# systemd/ and man/ hold the files as the package installs them; other prefixes get their
# own paths written into them.
function(hearth_stage_with_paths source name)
    file(READ "${HEARTH_SOURCE_DIR}/${source}" text)
    string(REPLACE "/usr/bin/hearthd" "${hearth_bindir}/hearthd" text "${text}")
    string(REPLACE "/etc/hearth/" "${hearth_confdir}/" text "${text}")
    string(REPLACE "/usr/lib/systemd/" "${hearth_prefix}/lib/systemd/" text "${text}")
    file(WRITE "${hearth_staging}/${name}" "${text}")
endfunction()
function(hearth_install_with_paths source directory name)
    hearth_stage_with_paths("${source}" "${name}")
    file(INSTALL "${hearth_staging}/${name}" DESTINATION "${directory}"
         FILE_PERMISSIONS ${hearth_readable})
endfunction()
hearth_install_with_paths(systemd/hearthd.service "${hearth_prefix}/lib/systemd/system"
                          hearthd.service)
hearth_install_with_paths(systemd/hearth.sysusers "${hearth_prefix}/lib/sysusers.d" hearth.conf)
hearth_install_with_paths(systemd/hearth.tmpfiles "${hearth_prefix}/lib/tmpfiles.d" hearth.conf)
# The drop-in the fast path needs (its capabilities), for the operator to copy into
# /etc/systemd/system/hearthd.service.d/ when fast_path is turned on.
hearth_install_with_paths(systemd/fast-path.conf "${hearth_datadir}/doc/hearth" fast-path.conf)

# The config, once. ($ENV{DESTDIR} is where CPack and `DESTDIR=... cmake --install` stage.)
set(hearth_secret_mode OWNER_READ OWNER_WRITE GROUP_READ)
if(EXISTS "$ENV{DESTDIR}${hearth_confdir}/hearth.conf")
    message(STATUS "Kept: $ENV{DESTDIR}${hearth_confdir}/hearth.conf (the shipped one is "
                   "hearth.conf.dist beside it)")
    file(COPY_FILE "${HEARTH_SOURCE_DIR}/etc/hearth.conf" "${hearth_staging}/hearth.conf.dist")
    file(INSTALL "${hearth_staging}/hearth.conf.dist" DESTINATION "${hearth_confdir}"
         FILE_PERMISSIONS ${hearth_secret_mode})
else()
    file(INSTALL "${HEARTH_SOURCE_DIR}/etc/hearth.conf" DESTINATION "${hearth_confdir}"
         FILE_PERMISSIONS ${hearth_secret_mode})
endif()

# Man pages, gzipped as Debian keeps them, and hearthctl's bash completion.
foreach(page hearthd.8 hearthctl.8 hearth.conf.5)
    string(REGEX MATCH "[0-9]$" section "${page}")
    hearth_stage_with_paths("packaging/man/${page}" "${page}")
    file(ARCHIVE_CREATE OUTPUT "${hearth_staging}/${page}.gz" PATHS "${hearth_staging}/${page}"
         FORMAT raw COMPRESSION GZip)
    file(INSTALL "${hearth_staging}/${page}.gz" DESTINATION "${hearth_datadir}/man/man${section}"
         FILE_PERMISSIONS ${hearth_readable})
endforeach()
file(INSTALL "${HEARTH_SOURCE_DIR}/packaging/completion/hearthctl"
     DESTINATION "${hearth_datadir}/bash-completion/completions"
     FILE_PERMISSIONS ${hearth_readable})
