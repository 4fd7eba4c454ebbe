import { Content, Header, Page } from '@backstage/core-components';
import { HomePageLayoutProps } from '@backstage/plugin-home-react/alpha';
import { KmpPersonaHome } from '@kmp/plugin-kmp';
import Box from '@material-ui/core/Box';
import Grid from '@material-ui/core/Grid';

/**
 * The home page: first what the signed-in user works on in KMP (by
 * persona), then the installed home page widgets.
 */
export function KmpHomeLayout(props: HomePageLayoutProps) {
  return (
    <Page themeId="home">
      <Header title="Kubernetes Management Platform" />
      <Content>
        <KmpPersonaHome />
        <Box mt={3}>
          <Grid container spacing={3}>
            {props.widgets.map((widget, index) => (
              <Grid item xs={12} md={6} key={widget.name ?? index}>
                {widget.component}
              </Grid>
            ))}
          </Grid>
        </Box>
      </Content>
    </Page>
  );
}
