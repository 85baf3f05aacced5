# lbipam_embed(OUT_C SYMBOL FILES...)
# Generates a C file holding each input file as a NUL-terminated string, so that migrations
# and openapi.yaml travel inside the binary: `extern const struct embedded_file SYMBOL[];`
# (terminated by an entry with name == NULL). Regenerated when an input changes.
function(lbipam_embed out_c symbol)
    add_custom_command(
        OUTPUT ${out_c}
        COMMAND ${CMAKE_COMMAND} -DOUT=${out_c} -DSYMBOL=${symbol} "-DFILES=${ARGN}"
                -P ${CMAKE_SOURCE_DIR}/cmake/embed_run.cmake
        DEPENDS ${ARGN} ${CMAKE_SOURCE_DIR}/cmake/embed_run.cmake
        COMMENT "Embedding ${symbol}"
        VERBATIM)
endfunction()
